//! The stacks under test: [`BuiltinTarget`] (wirecheck's own stack) and [`SmoltcpTarget`]
//! (smoltcp 0.14), both in process and in virtual time, and [`target_by_name`], which the
//! command line uses to pick one. What they share lives here: the descriptor table (lowest
//! free number from 3, as a Unix process hands them out) and the conversion between the
//! runner's `std::time::Duration` and the stacks' microsecond clocks.

pub mod builtin;
pub mod smoltcp;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::target::{Errno, Target, TargetError};

pub use self::smoltcp::SmoltcpTarget;
pub use builtin::BuiltinTarget;

/// The names [`target_by_name`] knows, in the order reports list them.
pub const TARGET_NAMES: &[&str] = &["builtin", "smoltcp", "linux"];

/// The target called `name` (one of [`TARGET_NAMES`]), not yet configured.
pub fn target_by_name(name: &str) -> Result<Box<dyn Target>, TargetError> {
    match name {
        "builtin" => Ok(Box::new(BuiltinTarget::new())),
        "smoltcp" => Ok(Box::new(SmoltcpTarget::new())),
        // linux: `"linux" => Ok(Box::new(linux::LinuxTarget::new()?))` once targets/linux.rs
        // lands (with `pub mod linux;` above).
        "linux" => Err(TargetError("linux target not built".to_string())),
        _ => Err(TargetError(format!(
            "unknown target `{name}` (expected one of: {})",
            TARGET_NAMES.join(", ")
        ))),
    }
}

/// Most descriptors one target hands out at once (a process's `RLIMIT_NOFILE`, small).
pub const MAX_DESCRIPTORS: usize = 1024;

/// The first descriptor a fresh process gets (0–2 are the standard streams).
pub const FIRST_DESCRIPTOR: i32 = 3;

/// Open descriptors and what each names, handed out lowest-free-first from
/// [`FIRST_DESCRIPTOR`], at most [`MAX_DESCRIPTORS`].
#[derive(Debug)]
pub(crate) struct FdTable<T> {
    entries: BTreeMap<i32, T>,
}

impl<T> Default for FdTable<T> {
    fn default() -> FdTable<T> {
        FdTable {
            entries: BTreeMap::new(),
        }
    }
}

impl<T> FdTable<T> {
    /// Stores `value` under the lowest free descriptor; `EMFILE`'s stand-in `ENOBUFS` when
    /// the table is full.
    pub(crate) fn insert(&mut self, value: T) -> Result<i32, Errno> {
        if self.entries.len() >= MAX_DESCRIPTORS {
            return Err(Errno::ENOBUFS);
        }
        let mut fd = FIRST_DESCRIPTOR;
        for &used in self.entries.keys() {
            if used == fd {
                fd += 1;
            } else if used > fd {
                break;
            }
        }
        self.entries.insert(fd, value);
        Ok(fd)
    }

    pub(crate) fn get(&self, fd: i32) -> Option<&T> {
        self.entries.get(&fd)
    }

    pub(crate) fn get_mut(&mut self, fd: i32) -> Option<&mut T> {
        self.entries.get_mut(&fd)
    }

    pub(crate) fn remove(&mut self, fd: i32) -> Option<T> {
        self.entries.remove(&fd)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (i32, &T)> {
        self.entries.iter().map(|(fd, v)| (*fd, v))
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (i32, &mut T)> {
        self.entries.iter_mut().map(|(fd, v)| (*fd, v))
    }
}

/// Microseconds in a `Duration`, saturating (a run never lasts 584 000 years).
pub(crate) fn micros(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Most timer deadlines one [`Target::advance_to`] runs: a stack whose timer does not move
/// past `now` cannot hang the runner.
pub(crate) const MAX_TIMER_STEPS: usize = 100_000;

#[cfg(test)]
mod fd_tests {
    use super::*;

    #[test]
    fn descriptors_are_lowest_free_from_three() {
        let mut t = FdTable::default();
        assert_eq!(t.insert('a'), Ok(3));
        assert_eq!(t.insert('b'), Ok(4));
        assert_eq!(t.insert('c'), Ok(5));
        assert_eq!(t.remove(4), Some('b'));
        assert_eq!(t.insert('d'), Ok(4));
        assert_eq!(t.insert('e'), Ok(6));
        assert_eq!(t.get(4), Some(&'d'));
    }

    #[test]
    fn descriptor_table_is_bounded() {
        let mut t = FdTable::default();
        for _ in 0..MAX_DESCRIPTORS {
            assert!(t.insert(()).is_ok());
        }
        assert_eq!(t.insert(()), Err(Errno::ENOBUFS));
    }

    #[test]
    fn unknown_names_are_an_error_listing_the_known_ones() {
        let e = target_by_name("bsd").err().map(|e| e.0).unwrap_or_default();
        assert!(
            e.contains("unknown target `bsd`") && e.contains("smoltcp"),
            "{e}"
        );
        assert_eq!(
            target_by_name("linux").err(),
            Some(TargetError("linux target not built".to_string()))
        );
        for name in ["builtin", "smoltcp"] {
            assert_eq!(
                target_by_name(name).map(|t| t.name().to_string()),
                Ok(name.to_string())
            );
        }
    }
}
