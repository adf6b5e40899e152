//go:build !unix

package http1

import "net"

// idleWait cannot wait without a buffer here: connections read into one as
// usual.
type idleWait struct{}

func (w *idleWait) init(net.Conn) bool { return false }
func (w *idleWait) wait() error        { return nil }
