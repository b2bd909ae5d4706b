document.addEventListener("DOMContentLoaded", () => console.log("busybox-web"));
