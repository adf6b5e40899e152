package router

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A router hands its listening sockets to the router that replaces it, so
// that an upgrade of Jack drops no connection: the sockets stay open the
// whole time, in one process or the other or both, and connections waiting
// to be accepted stay in their queue.
//
// The new router (Config.Handoff) asks the old one, over the control socket:
//
//	new → old   POST /handoff {"addrs": [addresses it serves]}
//	old → new   one JSON line, with the listeners' descriptors attached
//	            (SCM_RIGHTS): {"addrs": [the address of each descriptor]}
//	new         serves on them, next to the old router
//	new → old   "ready\n"
//	old         stops accepting, closes its control socket, and from now on
//	            closes each connection after its response
//	old → new   "released\n"
//	new         takes the control socket and the saved route table
//	old         finishes its requests in flight and exits
const handoffTimeout = 30 * time.Second

// handoffRequest is the body of POST /handoff.
type handoffRequest struct {
	Addrs []string `json:"addrs"`
}

// handoffOffer is the line the old router sends with the descriptors.
type handoffOffer struct {
	Addrs []string `json:"addrs"`
	Error string   `json:"error,omitempty"`
}

// handoff is the new router's side of a hand-off in progress.
type handoff struct {
	conn      *net.UnixConn
	br        *bufio.Reader
	listeners map[string]net.Listener
}

// takeListeners asks the router answering on socket for its listeners on
// addrs. It returns those it got, by address.
func takeListeners(socket string, addrs []string) (*handoff, error) {
	conn, err := net.DialTimeout("unix", socket, time.Second)
	if err != nil {
		return nil, fmt.Errorf("reach the running router: %w", err)
	}
	uc := conn.(*net.UnixConn)
	uc.SetDeadline(time.Now().Add(handoffTimeout))
	body, _ := json.Marshal(handoffRequest{Addrs: addrs})
	req := "POST /handoff HTTP/1.1\r\nHost: router\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	if _, err := io.WriteString(uc, req); err != nil {
		uc.Close()
		return nil, fmt.Errorf("ask the running router for its sockets: %w", err)
	}
	buf := make([]byte, 64<<10)
	oob := make([]byte, syscall.CmsgSpace(4*16))
	n, oobn, _, _, err := uc.ReadMsgUnix(buf, oob)
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("receive the running router's sockets: %w", err)
	}
	line, rest, ok := strings.Cut(string(buf[:n]), "\n")
	if !ok || strings.HasPrefix(line, "HTTP/") {
		uc.Close()
		return nil, fmt.Errorf("the running router does not hand off its sockets (it answered %q)", firstLine(line))
	}
	var offer handoffOffer
	if err := json.Unmarshal([]byte(line), &offer); err != nil {
		uc.Close()
		return nil, fmt.Errorf("decode the running router's offer: %w", err)
	}
	fds, err := parseRights(oob[:oobn])
	if err != nil || len(fds) != len(offer.Addrs) || offer.Error != "" {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		uc.Close()
		if offer.Error != "" {
			return nil, fmt.Errorf("the running router refused to hand off: %s", offer.Error)
		}
		return nil, fmt.Errorf("the running router sent %d sockets for %d addresses (%v)", len(fds), len(offer.Addrs), err)
	}
	h := &handoff{conn: uc, br: bufio.NewReader(io.MultiReader(strings.NewReader(rest), uc)), listeners: map[string]net.Listener{}}
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "listener "+offer.Addrs[i])
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			h.abort()
			return nil, fmt.Errorf("use the socket of %s: %w", offer.Addrs[i], err)
		}
		h.listeners[offer.Addrs[i]] = ln
	}
	return h, nil
}

func parseRights(oob []byte) ([]int, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		got, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// complete tells the old router that this one serves, and waits until it
// has let go of the control socket.
func (h *handoff) complete() error {
	defer h.conn.Close()
	if _, err := io.WriteString(h.conn, "ready\n"); err != nil {
		return fmt.Errorf("tell the old router to stop: %w", err)
	}
	line, err := h.br.ReadString('\n')
	if err != nil || line != "released\n" {
		return fmt.Errorf("the old router did not release its control socket: %q, %v", line, err)
	}
	return nil
}

// abort gives up: the listeners taken are closed (the old router keeps
// its own) and the old router goes on as if nothing happened.
func (h *handoff) abort() {
	for _, ln := range h.listeners {
		ln.Close()
	}
	h.conn.Close()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\r'); i >= 0 {
		return s[:i]
	}
	return s
}

// listenerSet is what a running router serves on, by configured address,
// and what it does when a new router takes them.
type listenerSet struct {
	byAddr map[string]net.Listener
	// release is called once the new router serves: it stops this router's
	// accepting and its control socket, and starts its graceful exit.
	release func()
}

// postHandoff is the old router's side: POST /handoff on the control
// socket.
func (c *controlAPI) postHandoff(w http.ResponseWriter, r *http.Request) {
	var req handoffRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "decode hand-off request: "+err.Error(), http.StatusBadRequest)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "hijack: "+err.Error(), http.StatusInternalServerError)
		return
	}
	defer conn.Close()
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return
	}
	uc.SetDeadline(time.Now().Add(handoffTimeout))
	var offer handoffOffer
	var fds []int
	for _, addr := range req.Addrs {
		ln, ok := c.listeners.byAddr[addr]
		if !ok {
			continue
		}
		fd, err := dupListener(ln)
		if err != nil {
			c.logger.Error("could not hand off a socket", "addr", addr, "err", err)
			continue
		}
		fds = append(fds, fd)
		offer.Addrs = append(offer.Addrs, addr)
	}
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	line, _ := json.Marshal(offer)
	if _, _, err := uc.WriteMsgUnix(append(line, '\n'), syscall.UnixRights(fds...), nil); err != nil {
		c.logger.Error("could not hand off the sockets", "err", err)
		return
	}
	ready, err := brw.ReadString('\n')
	if err != nil || ready != "ready\n" {
		c.logger.Warn("the new router did not take over; serving on", "answer", ready, "err", err)
		return
	}
	c.logger.Info("the new router serves; handing over and finishing requests in flight", "addrs", offer.Addrs)
	c.listeners.release()
	io.WriteString(uc, "released\n")
}

// dupListener returns a duplicate of a listener's descriptor, leaving the
// listener as it is (os.File's Fd would make the socket blocking).
func dupListener(ln net.Listener) (int, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return -1, errors.New("not a socket listener")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(s uintptr) { fd, derr = syscall.Dup(int(s)) }); err != nil {
		return -1, err
	}
	return fd, derr
}
