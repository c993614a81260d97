package memstore_test

import (
	"context"
	"testing"

	"github.com/earthmount/earthmount/backends"
	"github.com/earthmount/earthmount/backends/memstore"
	"github.com/earthmount/earthmount/backends/storetest"
)

func TestContract(t *testing.T) {
	st := memstore.New()
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T, fixture []storetest.Object) backends.Store {
			for _, o := range fixture {
				st.Put(o.Key, o.Data)
			}
			return st
		},
		Overwrite: func(_ context.Context, key string, data []byte) error {
			st.Put(key, data)
			return nil
		},
	})
}

func TestWriterContract(t *testing.T) {
	storetest.RunWriter(t, memstore.New(), "b/", 20<<20)
}
