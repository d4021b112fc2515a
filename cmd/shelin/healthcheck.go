package main

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// cmdHealthcheck asks the local server's /healthz (the image has no curl).
func cmdHealthcheck() error {
	addr := envOr("SHELIN_ADDR", ":8080")
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	c := http.Client{Timeout: 3 * time.Second}
	res, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %d", res.StatusCode)
	}
	return nil
}
