//! How the server's process holds memory.

/// Makes the C allocator give large blocks back to the system when they are freed.
///
/// glibc serves a block of 128 KB or more with its own mapping, but after one such
/// block is freed it raises that threshold (up to 32 MB) and the trim threshold with
/// it, so later large blocks (upload buffers, an export's pages, SQLite's caches)
/// come from the per-thread arenas and stay there once freed: a server that had
/// served a few uploads and an export kept ~90 MB it no longer used. Fixing the
/// threshold at glibc's own default stops that drift; the extra mapping per large
/// block was not measurable on any page (`docs/benchmarks.md`).
pub fn return_large_blocks() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: std::ffi::c_int = 128 * 1024;
        // SAFETY: mallopt only changes the allocator's tuning values; called once at
        // start, before the server's threads exist. It returns 0 when the value is
        // refused, which leaves glibc's defaults: nothing to undo.
        let set = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD) };
        if set == 0 {
            log::warn!("the allocator refused a fixed mmap threshold: freed large blocks may stay held");
        }
    }
}

/// Gives the memory freed since the last call back to the system: returns whether
/// any was. glibc keeps freed small blocks in its per-thread arenas for reuse, and
/// after an export, a few uploads and minutes of mixed pages a server held 33 MB of
/// its own memory of which 21 MB was freed blocks (`malloc_trim` took it to 12 MB;
/// `docs/benchmarks.md`). Nothing to do on other C libraries.
pub fn give_back_freed() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim only returns whole free pages of the allocator's own
        // arenas to the system, taking each arena's lock; any thread may call it.
        unsafe { libc::malloc_trim(0) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// Every 10 seconds, for the life of the process: `give_back_freed`. A trim walks
/// the arenas' free blocks under each arena's lock, and what it gives back is
/// what the next burst faults in again: often enough that freed memory does not
/// sit for long, rare enough that neither cost shows.
pub fn give_back_freed_periodically() {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(10);
    let started = std::thread::Builder::new().name("memory-trim".into()).spawn(|| {
        loop {
            std::thread::sleep(EVERY);
            give_back_freed();
        }
    });
    if let Err(e) = started {
        log::warn!("could not start the thread that gives freed memory back: {e}");
    }
}

#[cfg(test)]
mod tests {
    /// Blocks freed in the middle of the heap (a live block above them keeps the
    /// heap's top in place) are given back by the trim, not only the top.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_blocks_are_given_back() {
        let blocks: Vec<Vec<u8>> = (0..4_000).map(|i| vec![i as u8; 4_000]).collect();
        let keep = vec![1u8; 4_000];
        drop(blocks);
        assert!(super::give_back_freed(), "8 MB were freed and none was given back");
        assert_eq!(keep[0], 1);
    }
}
