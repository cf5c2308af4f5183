// The proxy benchmark's load generator in Go: the same modes, arguments and JSON line as
// load.mjs, at a fraction of its CPU. At 2,000 requests/s the Node generator spends 70-85 %
// of a core (it spins to send on time, and node:http costs ~100 µs a request), on a machine
// of two cores shared with the proxy under test; its own stalls then set every path's p99.
// Here the sender sleeps in nanosleep(2) on a thread of its own (Go's timers round sleeps
// under a millisecond up to one, which would add that much jitter to every path), and each
// request is a goroutine on net/http's keep-alive pool.
//
//	rate <url> <requests/s> <seconds> [warm-up seconds]   open loop, latency from the scheduled time
//	max <url> <connections> <seconds>                     closed loop
//
// Built into a temporary dir at the start of a run (bench/proxy/load-generator.ts, with
// test/support/go.ts: Debian's golang-go, GOPATH mode, standard library only).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type result struct {
	Sent        int64     `json:"sent"`
	Ok          int64     `json:"ok"`
	Failed      int64     `json:"failed"`
	Seconds     float64   `json:"seconds"`
	Connections int64     `json:"connections"`
	WarmupSent  int64     `json:"warmupSent"`
	LatencyUs   []float64 `json:"latencyUs"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(2)
}

func number(name, text string) float64 {
	value, err := strconv.ParseFloat(text, 64)
	if err != nil || !(value >= 0) || math.IsInf(value, 1) {
		fail("%s must be a finite number >= 0, got %q", name, text)
	}
	return value
}

// sleepUntil sleeps in the kernel, so a wait under a millisecond lasts about what was asked.
func sleepUntil(at time.Time) {
	d := time.Until(at)
	if d <= 0 {
		return
	}
	ts := syscall.NsecToTimespec(d.Nanoseconds())
	for syscall.Nanosleep(&ts, &ts) == syscall.EINTR {
	}
}

func main() {
	if len(os.Args) < 5 {
		fail("usage: loadgen rate|max <url> <amount> <seconds> [warm-up seconds]")
	}
	mode, target := os.Args[1], os.Args[2]
	amount := number("amount", os.Args[3])
	seconds := number("seconds", os.Args[4])
	warmup := 0.0
	if mode == "rate" && len(os.Args) > 5 {
		warmup = number("warm-up seconds", os.Args[5])
	}
	if amount <= 0 {
		fail("amount must be a number > 0, got %q", os.Args[3])
	}
	if mode != "rate" && mode != "max" {
		fail("unknown mode %q", mode)
	}

	var connections int64
	dialer := &net.Dialer{}
	maxConns := 512
	if mode == "max" {
		maxConns = int(amount)
	}
	transport := &http.Transport{
		MaxConnsPerHost:     maxConns,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, address)
			if err == nil {
				atomic.AddInt64(&connections, 1)
			}
			return conn, err
		},
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	var mu sync.Mutex
	res := result{LatencyUs: make([]float64, 0, int(amount*seconds)+16)}
	once := func(scheduled time.Time, counted bool) {
		resp, err := client.Get(target)
		ok := false
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ok = err == nil && resp.StatusCode == 200
		}
		if !counted {
			return
		}
		elapsed := float64(time.Since(scheduled).Nanoseconds()) / 1000
		mu.Lock()
		if ok {
			res.Ok++
		} else {
			res.Failed++
		}
		if err == nil {
			res.LatencyUs = append(res.LatencyUs, elapsed)
		}
		mu.Unlock()
	}

	began := time.Now()
	countFrom := began.Add(time.Duration(warmup * 1e9))
	endAt := countFrom.Add(time.Duration(seconds * 1e9))
	var wg sync.WaitGroup
	switch mode {
	case "rate":
		runtime.LockOSThread()
		interval := 1e9 / amount
		for i := 0; ; i++ {
			scheduled := began.Add(time.Duration(float64(i) * interval))
			if !scheduled.Before(endAt) {
				break
			}
			sleepUntil(scheduled)
			counted := !scheduled.Before(countFrom)
			if counted {
				res.Sent++
			} else {
				res.WarmupSent++
			}
			wg.Add(1)
			go func() { defer wg.Done(); once(scheduled, counted) }()
		}
		runtime.UnlockOSThread()
	case "max":
		for c := 0; c < int(amount); c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(endAt) {
					mu.Lock()
					res.Sent++
					mu.Unlock()
					once(time.Now(), true)
				}
			}()
		}
	default:
		fail("unknown mode %q", mode)
	}
	wg.Wait()
	res.Seconds = time.Since(countFrom).Seconds()
	res.Connections = atomic.LoadInt64(&connections)
	sort.Float64s(res.LatencyUs)
	out, _ := json.Marshal(res)
	os.Stdout.Write(append(out, '\n'))
}
