package db

import "sync/atomic"

var retries atomic.Int64

// Retries is how many times InTx has re-run a transaction since start.
func Retries() int64 { return retries.Load() }
