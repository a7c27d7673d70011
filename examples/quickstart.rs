//! Quickstart: take buffers from the global pool and watch the stats change.
fn main() {
    let buf = mempool::get_buffer(1000);
    println!("{buf:?}");
    drop(buf);
    println!("{:?}", mempool::stats());
}
