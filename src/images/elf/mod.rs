//! Pure parsers over binutils output (`readelf`, `nm`, `objdump`, `ldd`) and
//! the generators built on them (stub libraries, Python C API shims). No I/O
//! here: `build/` runs the tools and feeds their text in.
//!
//! Files: `parse` (readelf, nm and ldd output), `stubs` (planning and rendering the stub
//! libraries and the Python C API shim), `flags_base` (the FlagsBase offset from objdump).

mod flags_base;
mod parse;
mod stubs;
#[cfg(test)]
mod test_fixtures;

pub(crate) use flags_base::flags_base_offset;
pub(crate) use parse::{
    nm_address_size, parse_dyn_syms, parse_ldd, parse_needed, parse_nm_defined,
    parse_version_needs, LddEntry,
};
pub(crate) use stubs::{plan_stubs, render_stub_c, render_stub_library, StubSymbol};
