package main

import (
	"embed"
	"io/fs"
	"log"
	"net/http"
	"time"
)

//go:embed web/dist
var dist embed.FS

func main() {
	static, err := fs.Sub(dist, "web/dist")
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.FS(static)))
	mux.HandleFunc("/api/time", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"now":"` + time.Now().UTC().Format(time.RFC3339) + `"}`))
	})
	log.Println("go-frontend listening on :8080")
	log.Fatal(http.ListenAndServe(":8080", mux))
}
