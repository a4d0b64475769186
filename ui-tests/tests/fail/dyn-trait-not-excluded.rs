use memo_runtime::faas_cached;

trait Database {
    fn lookup(&self, id: u64) -> String;
}

#[faas_cached]
fn user_name(db: &dyn Database, id: u64) -> String {
    db.lookup(id)
}

fn main() {}
