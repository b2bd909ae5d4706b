mod wc;

use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--version") {
        println!("rust-cli {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("read stdin");
    let c = wc::count(&input);
    println!("{} lines {} words {} bytes", c.lines, c.words, c.bytes);
}
