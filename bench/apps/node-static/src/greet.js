export function greet(name) {
  return `Hello, ${name}! Built at ${new Date(__BUILD_TIME__).toISOString()}`;
}
