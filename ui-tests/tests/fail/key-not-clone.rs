use memo_runtime::faas_cached;

#[derive(Hash, PartialEq, Eq)]
struct Token(String);

#[faas_cached]
fn owner(token: Token) -> String {
    token.0
}

fn main() {}
