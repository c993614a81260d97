package resume

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/earthmount/earthmount/backends"
)

// object serves data through a Getter that misbehaves as a script says.
type object struct {
	data  []byte
	steps []string // per call: "ok", "short" (half, no error), "break" (half + ErrShortBody), "stale"
	calls int
}

func (o *object) get(ctx context.Context, buf []byte, off int64) (int, bool, error) {
	step := "ok"
	if o.calls < len(o.steps) {
		step = o.steps[o.calls]
	}
	o.calls++
	if step == "stale" {
		return 0, false, backends.ErrStale
	}
	n := copy(buf, o.data[off:])
	atEOF := off+int64(n) >= int64(len(o.data))
	switch step {
	case "short":
		return n / 2, false, nil
	case "break":
		return n / 2, false, fmt.Errorf("cut: %w", ErrShortBody)
	}
	return n, atEOF, nil
}

func TestFill(t *testing.T) {
	data := []byte("0123456789abcdef")
	opts := Options{Attempts: 3, Backoff: func(int) time.Duration { return 0 }, Fail: func(err error) error { return err }, Log: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name    string
		steps   []string
		plen    int
		off     int64
		wantN   int
		wantErr error
		calls   int
	}{
		{"whole", nil, 16, 0, 16, nil, 1},
		{"past the end", nil, 8, 12, 4, io.EOF, 1},
		{"shorter range, asks for the rest", []string{"short"}, 16, 0, 16, nil, 2},
		{"broken body, reads on", []string{"break", "break"}, 16, 0, 16, nil, 3},
		{"broken too often", []string{"break", "break", "break"}, 16, 0, 14, ErrShortBody, 3},
		{"stale gives no bytes", []string{"break", "stale"}, 16, 0, 0, backends.ErrStale, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &object{data: data, steps: tt.steps}
			p := make([]byte, tt.plen)
			want := min(tt.plen, len(data)-int(tt.off))
			n, err := Fill(context.Background(), p, want, tt.off, o.get, opts)
			if n != tt.wantN || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) || o.calls != tt.calls {
				t.Errorf("Fill = %d, %v after %d calls; want %d, %v after %d", n, err, o.calls, tt.wantN, tt.wantErr, tt.calls)
			}
			if tt.wantErr == nil || tt.wantErr == io.EOF {
				if string(p[:n]) != string(data[tt.off:tt.off+int64(n)]) {
					t.Errorf("bytes %q", p[:n])
				}
			}
		})
	}
}

func TestFillCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	o := &object{data: []byte("abcdef"), steps: []string{"break"}}
	get := func(ctx context.Context, buf []byte, off int64) (int, bool, error) {
		cancel()
		return o.get(ctx, buf, off)
	}
	wrapped := errors.New("wrapped")
	_, err := Fill(ctx, make([]byte, 6), 6, 0, get, Options{Attempts: 3, Backoff: func(int) time.Duration { return time.Hour },
		Fail: func(err error) error { return fmt.Errorf("%w: %w", wrapped, err) }, Log: slog.New(slog.DiscardHandler)})
	if !errors.Is(err, wrapped) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want the store's wrap of context.Canceled", err)
	}
}
