FROM alpine:3.20
WORKDIR /app
COPY . .
RUN sh build.sh
EXPOSE 8080
CMD ["httpd", "-f", "-v", "-p", "8080", "-h", "/app/www"]
