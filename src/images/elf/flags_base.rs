//! The offset of `flags::FlagsBase` inside a `Flags` object, read from the disassembly of
//! its constructor; the launcher is compiled with it.

use std::collections::HashSet;

/// Derives the offset of the virtual `flags::FlagsBase` base inside
/// `slave::Flags` from `objdump -d --no-show-raw-insn` of
/// `slave::Flags::Flags()` (the complete-object constructor, C1).
///
/// Two shapes occur: the `FlagsBase` constructor is called (its `this` is
/// `lea OFF(%this),%reg` moved to `%rdi`), or it is inlined, and then its
/// first act is storing FlagsBase's vptr (`mov <_ZTVN5flags9FlagsBaseE>,%reg;
/// add $0x10,%reg; mov %reg,OFF(%this)`). `%this` is `%rdi` or a register
/// copied from it.
pub(crate) fn flags_base_offset(objdump: &str) -> Result<u64, String> {
    let insns: Vec<(String, String, String)> = objdump
        .lines()
        .filter_map(|l| {
            // "  285cb43:\tmov    %rdi,%r14" with an optional "# comment"
            let (addr, rest) = l.split_once(":\t")?;
            if addr.trim().is_empty() || !addr.trim().chars().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            let (code, comment) = match rest.split_once('#') {
                Some((c, m)) => (c, m.to_string()),
                None => (rest, String::new()),
            };
            let mut parts = code.trim().splitn(2, char::is_whitespace);
            let mnemonic = parts.next().unwrap_or("").to_string();
            let operands = parts.next().unwrap_or("").trim().to_string();
            // objdump puts call targets `<sym>` in the operands.
            let comment = if comment.is_empty() {
                operands.clone()
            } else {
                comment
            };
            Some((mnemonic, operands, comment))
        })
        .collect();
    if insns.is_empty() {
        return Err("the disassembly is empty".into());
    }
    // Registers holding `this`.
    let mut this_regs: HashSet<String> = HashSet::from(["%rdi".to_string()]);
    let parse_mem = |op: &str| -> Option<(u64, String)> {
        // "0x1150(%r13)"
        let (off, reg) = op.split_once('(')?;
        let reg = reg.trim_end_matches(')').to_string();
        let off = u64::from_str_radix(off.trim_start_matches("0x"), 16).ok()?;
        Some((off, reg))
    };
    for (i, (mnemonic, operands, comment)) in insns.iter().enumerate() {
        if mnemonic == "mov" {
            if let Some((src, dst)) = operands.split_once(',') {
                if this_regs.contains(src) && dst.starts_with('%') {
                    this_regs.insert(dst.to_string());
                }
            }
        }
        // Shape 1: call to the FlagsBase constructor.
        if mnemonic.starts_with("call")
            && (comment.contains("<_ZN5flags9FlagsBaseC2Ev")
                || comment.contains("<_ZN5flags9FlagsBaseC1Ev"))
        {
            let mut target = "%rdi".to_string();
            for (m, ops, _) in insns[..i].iter().rev() {
                let Some((src, dst)) = ops.rsplit_once(',') else {
                    continue;
                };
                if dst != target {
                    continue;
                }
                if m == "lea" {
                    let (off, reg) =
                        parse_mem(src).ok_or_else(|| format!("unexpected operand `{ops}`"))?;
                    if !this_regs.contains(&reg) {
                        return Err(format!("the FlagsBase constructor's `this` is based on {reg}, not on the object"));
                    }
                    return Ok(off);
                }
                if m == "mov" && src.starts_with('%') {
                    if this_regs.contains(src) {
                        return Ok(0);
                    }
                    target = src.to_string();
                    continue;
                }
                return Err(format!(
                    "the FlagsBase constructor's `this` comes from `{m} {ops}`"
                ));
            }
            return Err("no instruction sets `this` for the FlagsBase constructor".into());
        }
        // Shape 2: inlined; FlagsBase's vptr is loaded and stored.
        if mnemonic == "mov" && comment.contains("<_ZTVN5flags9FlagsBaseE") {
            let Some((_, reg)) = operands.rsplit_once(',') else {
                continue;
            };
            let reg = reg.to_string();
            let mut adjusted = false;
            for (m, ops, _) in insns[i + 1..].iter() {
                let Some((src, dst)) = ops.rsplit_once(',') else {
                    continue;
                };
                if m == "add" && dst == reg {
                    if src != "$0x10" {
                        return Err(format!(
                            "FlagsBase's vtable address is adjusted by {src}, expected $0x10"
                        ));
                    }
                    adjusted = true;
                    continue;
                }
                if m == "mov" && src == reg {
                    if let Some((off, base)) = parse_mem(dst) {
                        if this_regs.contains(&base) {
                            if !adjusted {
                                return Err("FlagsBase's vtable is stored without the +0x10 vptr adjustment".into());
                            }
                            return Ok(off);
                        }
                    }
                }
                if dst == reg {
                    return Err(format!(
                        "{reg} is overwritten by `{m} {ops}` before FlagsBase's vptr is stored"
                    ));
                }
            }
            return Err("FlagsBase's vtable is loaded but never stored".into());
        }
    }
    Err(
        "neither a call to the FlagsBase constructor nor a store of FlagsBase's vptr was found"
            .into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBJDUMP_INLINED: &str = "
000000000285cb30 <_ZN5mesos8internal5slave5FlagsC1Ev>:
 285cb30:\tpush   %rbp
 285cb43:\tmov    %rdi,%r14
 285cb47:\tlea    0x13b8(%rdi),%rbx
 285cb55:\tmov    %rbx,0x13a8(%rdi)
 285cb76:\tmov    0x2474ccb(%rip),%rax        # 4cd1848 <_ZTVN5flags9FlagsBaseE@@Base+0x111e50>
 285cb7d:\tmovb   $0x0,0x13b8(%rdi)
 285cbae:\tadd    $0x10,%rax
 285cbb2:\tmovl   $0x0,0x1428(%rdi)
 285cbc7:\tmov    %rax,0x1398(%rdi)
 285cbce:\tlea    0x13f8(%rdi),%rax
";

    const OBJDUMP_CALL: &str = "
00000000017a60d0 <_ZN5mesos8internal5slave5FlagsC1Ev>:
 17a60d0:\tpush   %r15
 17a60e0:\tmov    %rdi,%r13
 17a60ed:\tmov    %rax,0x240(%rsp)
 17a60f5:\tlea    0x1150(%r13),%r12
 17a60fc:\tmov    %r12,%rdi
 17a60ff:\tcall   126d650 <_ZN5flags9FlagsBaseC2Ev@plt>
 17a6104:\tlea    0x10c8(%r13),%rdi
";

    #[test]
    fn offset_from_inlined_constructor() {
        assert_eq!(flags_base_offset(OBJDUMP_INLINED), Ok(0x1398));
    }

    #[test]
    fn offset_from_constructor_call() {
        assert_eq!(flags_base_offset(OBJDUMP_CALL), Ok(0x1150));
    }

    #[test]
    fn offset_refuses_to_guess() {
        let no_adjust = OBJDUMP_INLINED.replace("add    $0x10,%rax", "nop");
        assert!(flags_base_offset(&no_adjust).unwrap_err().contains("+0x10"));
        let foreign = OBJDUMP_CALL.replace("0x1150(%r13)", "0x10(%rsp)");
        assert!(flags_base_offset(&foreign).unwrap_err().contains("%rsp"));
        assert!(flags_base_offset("000 <x>:\n 1:\tret\n").is_err());
    }
}
