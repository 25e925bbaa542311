//! Assembling one version's build directory (see docs/images.md).
//!
//! Files: `cache` (options, the input hash, build-or-reuse, pruning), `assemble` (the steps
//! that fill a build directory), `launcher` (the FlagsBase offsets and the launcher's
//! compile, link and self-check), `rootfs` (modes, mtimes and size of the tree), `tool`
//! (running binutils and compilers).

mod assemble;
mod cache;
mod launcher;
mod rootfs;
mod tool;

#[cfg(test)]
pub(crate) use cache::cached_build;
pub use cache::{
    build_hash, build_version, prune_builds, BuildOptions, VersionBuild, BUILD_FORMAT_VERSION,
};
pub(super) use rootfs::dir_size;
pub(crate) use rootfs::normalize_tree;
pub(super) use tool::run_tool;
