//! Keeping the idle shim small. Creating a container runs a lot of code
//! (spec parsing, the runtime, its cgroup and seccomp support) that an
//! idle shim never runs again; its pages stay mapped, and the kernel's
//! fault-around maps their neighbours too. Once the container exists the
//! shim drops its page-table entries for executable file mappings (the
//! pages stay in the page cache, so nothing is re-read from disk) and
//! returns free heap to the kernel; it does so again whenever it has been
//! idle for a second after serving requests.

use std::fs;

/// Unmaps the executable file pages and trims the heap.
pub fn trim() {
    let Ok(maps) = fs::read_to_string("/proc/self/maps") else {
        return;
    };
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let path = fields.nth(3).unwrap_or("");
        // Only clean, never-written code: private executable file mappings.
        // (Writable or relocated read-only data must never be dropped.)
        if perms != "r-xp" || !path.starts_with('/') {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (
            usize::from_str_radix(start, 16),
            usize::from_str_radix(end, 16),
        ) else {
            continue;
        };
        let addr = start as *mut libc::c_void;
        // SAFETY: [start, end) is a whole mapping of this process listed in
        // /proc/self/maps, private, executable and not writable, so its
        // pages equal the file's: MADV_DONTNEED only drops page-table
        // entries, and the next access faults the same bytes back in.
        unsafe {
            libc::madvise(addr, end - start, libc::MADV_DONTNEED);
        }
    }
    // SAFETY: malloc_trim has no preconditions; it releases free heap.
    unsafe {
        libc::malloc_trim(0);
    }
}
