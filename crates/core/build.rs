// Migrations are embedded in the library: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
