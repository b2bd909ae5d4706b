package store

import "sync"

// Store keeps notes in memory.
type Store struct {
	mu    sync.Mutex
	notes []string
}

// New returns a store with one note.
func New() *Store { return &Store{notes: []string{"hello from go-api"}} }

// All returns a copy of the notes.
func (s *Store) All() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.notes...)
}
