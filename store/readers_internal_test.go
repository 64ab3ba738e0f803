package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// While a write transaction runs or waits, a reader does not take the
// last read slot; without one it does.
func TestReadSlotLeavesTheLastToAWriter(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "r.db"), &Options{NoSync: true, MaxReaders: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	s.readers <- struct{}{} // one reader runs
	s.writing.Add(1)
	if got, err := s.readSlot(cancelled); got || !errors.Is(err, context.Canceled) {
		t.Errorf("with a writer: readSlot = %v, %v; want to wait (here: the cancelled context)", got, err)
	}
	if len(s.readers) != 1 {
		t.Errorf("%d slots taken, want 1", len(s.readers))
	}
	s.writing.Add(-1)
	if got, err := s.readSlot(cancelled); !got || err != nil {
		t.Errorf("without a writer: readSlot = %v, %v; want the free slot", got, err)
	}
	<-s.readers
	<-s.readers

	// One slot in all: a reader may always take it.
	s1, err := Open(filepath.Join(t.TempDir(), "r1.db"), &Options{NoSync: true, MaxReaders: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s1.writing.Add(1)
	if got, err := s1.readSlot(cancelled); !got || err != nil {
		t.Errorf("one slot, a writer: readSlot = %v, %v; want the slot", got, err)
	}
}
