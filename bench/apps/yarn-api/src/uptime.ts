export function uptime(since: number, format: (n: number) => string): string {
  return format(Date.now() - since);
}
