module example.com/go-frontend

go 1.19
