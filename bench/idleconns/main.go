// Command idleconns opens many keep-alive connections to an HTTP server,
// sends one request on each, and keeps them open and idle until killed,
// so that bench/router.sh can measure what idle clients cost the router.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:19004", "server address")
	host := flag.String("host", "127.0.0.1", "Host header")
	n := flag.Int("n", 10000, "connections")
	flag.Parse()
	conns := make([]net.Conn, 0, *n)
	for i := range *n {
		c, err := net.Dial("tcp", *addr)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", *host)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			log.Fatalf("connection %d: %v", i, err)
		}
		resp.Body.Close()
		conns = append(conns, c)
	}
	fmt.Println("ready", len(conns))
	os.Stdout.Sync()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	<-stop
}
