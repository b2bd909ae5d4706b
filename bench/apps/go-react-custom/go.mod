module example.com/go-react-custom

go 1.19
