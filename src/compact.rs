//! Small stand-ins, exactly equal to what they replace, for two std facilities whose code and
//! tables are a large share of the .wasm (docs/wasm.md, "Size"): `f64`'s `Display` (std's float
//! printer: 6 KB of the gzipped module, for one error message) and `char::to_lowercase` (std's
//! 11 KB lower-case table: 7.5 KB gzipped, for the redaction's case folding). The tests compare
//! both with std over every `char` and over a large sample of `f64` values.

/// `v` as `format!("{v}")` writes it: the shortest digits that read back as `v`, the closest to
/// `v` of those, a tie rounded up; never in exponent form (`1e21` is `1000000000000000000000`);
/// `NaN`, `inf`, `-inf`, `-0`. The digits come from serde_json's float printer, which the module
/// has anyway: the same shortest digits, except that it rounds a tie to even.
pub(crate) fn display_f64(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    let mut out = String::from(if v.is_sign_negative() { "-" } else { "" });
    if v.is_infinite() {
        out.push_str("inf");
        return out;
    }
    let (mut digits, mut exp10) = if v == 0.0 { (0, 0) } else { shortest(v.abs()) };
    if digits != 0 && half_above(v.abs(), digits, exp10) {
        // A tie that serde_json rounded down (to even): std rounds it up.
        digits += 1;
    }
    while digits % 10 == 0 && digits != 0 {
        digits /= 10;
        exp10 += 1;
    }
    // v = digits × 10^exp10: written out without an exponent.
    let digits = digits.to_string();
    let point = digits.len() as i32 + exp10;
    let zeros = |n: i32| "0".repeat(n.max(0) as usize);
    if point <= 0 {
        out.push_str("0.");
        out.push_str(&zeros(-point));
        out.push_str(&digits);
    } else if (point as usize) < digits.len() {
        let (whole, part) = digits.split_at(point as usize);
        out.push_str(whole);
        out.push('.');
        out.push_str(part);
    } else {
        out.push_str(&digits);
        out.push_str(&zeros(exp10));
    }
    out
}

/// serde_json's shortest digits of a finite `v > 0`: `(d, e)` with `v ≈ d × 10^e`.
fn shortest(v: f64) -> (u64, i32) {
    // Written as `[int][.frac][e[±]exp]`.
    let printed = serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string());
    let (mantissa, exp) = match printed.split_once(['e', 'E']) {
        Some((mantissa, exp)) => (mantissa, exp.parse::<i32>().unwrap_or(0)),
        None => (printed.as_str(), 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    (digits.parse().unwrap_or(0), exp - frac.len() as i32)
}

/// Whether `v > 0` is exactly `(10·d + 5) × 10^(e−1)`: halfway between `d × 10^e` and the next.
fn half_above(v: f64, d: u64, e: i32) -> bool {
    // v = m × 2^p exactly.
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = u128::from(bits & ((1 << 52) - 1));
    let (m, p) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, biased - 1075)
    };
    let n = u128::from(d) * 10 + 5;
    // n × 10^q = n × 5^q × 2^q, q = e − 1.
    let q = e - 1;
    let five = |k: i32| 5u128.checked_pow(k.unsigned_abs());
    if q >= 0 {
        // m × 2^(p−q) == n × 5^q
        five(q)
            .and_then(|f| n.checked_mul(f))
            .is_some_and(|rhs| scaled_eq(m, p - q, rhs))
    } else {
        // m × 5^−q × 2^(p−q) == n
        five(q)
            .and_then(|f| m.checked_mul(f))
            .is_some_and(|lhs| scaled_eq(lhs, p - q, n))
    }
}

/// Whether `a × 2^shift == b`.
fn scaled_eq(a: u128, shift: i32, b: u128) -> bool {
    let fits = |x: u128, s: u32| s < 128 && x.leading_zeros() >= s;
    let s = shift.unsigned_abs();
    if shift >= 0 {
        fits(a, s) && a << s == b
    } else {
        fits(b, s) && b << s == a
    }
}

/// `c.to_lowercase()`, from a table of runs instead of std's table of every pair.
pub(crate) fn lowercase(c: char) -> impl Iterator<Item = char> {
    let (first, second) = match c {
        'A'..='Z' => (c.to_ascii_lowercase(), None),
        '\0'..='\u{7f}' => (c, None),
        // The one character that lower-cases to two.
        '\u{130}' => ('i', Some('\u{307}')),
        _ => (lower_one(c), None),
    };
    std::iter::once(first).chain(second)
}

fn lower_one(c: char) -> char {
    let u = c as u32;
    let at = LOWER.partition_point(|&(start, ..)| start <= u);
    if let Some(&(start, count, step, delta)) = at.checked_sub(1).map(|i| &LOWER[i]) {
        let offset = u - start;
        if offset % u32::from(step) == 0 && offset / u32::from(step) < u32::from(count) {
            return char::from_u32(u.wrapping_add_signed(delta)).unwrap_or(c);
        }
    }
    c
}

/// Every character that lower-cases to one other character, as runs: `(start, count, step,
/// delta)` stands for `start + i·step → start + i·step + delta` for `i` in `0..count`. Generated
/// from std's `char::to_lowercase` (the test `lowercase_is_std` prints it anew if std's Unicode
/// version changes).
#[rustfmt::skip]
const LOWER: [(u32, u8, u8, i32); 185] = [
    (0x41, 26, 1, 32),
    (0xc0, 23, 1, 32),
    (0xd8, 7, 1, 32),
    (0x100, 24, 2, 1),
    (0x132, 3, 2, 1),
    (0x139, 8, 2, 1),
    (0x14a, 23, 2, 1),
    (0x178, 1, 1, -121),
    (0x179, 3, 2, 1),
    (0x181, 1, 1, 210),
    (0x182, 2, 2, 1),
    (0x186, 1, 1, 206),
    (0x187, 1, 1, 1),
    (0x189, 2, 1, 205),
    (0x18b, 1, 1, 1),
    (0x18e, 1, 1, 79),
    (0x18f, 1, 1, 202),
    (0x190, 1, 1, 203),
    (0x191, 1, 1, 1),
    (0x193, 1, 1, 205),
    (0x194, 1, 1, 207),
    (0x196, 1, 1, 211),
    (0x197, 1, 1, 209),
    (0x198, 1, 1, 1),
    (0x19c, 1, 1, 211),
    (0x19d, 1, 1, 213),
    (0x19f, 1, 1, 214),
    (0x1a0, 3, 2, 1),
    (0x1a6, 1, 1, 218),
    (0x1a7, 1, 1, 1),
    (0x1a9, 1, 1, 218),
    (0x1ac, 1, 1, 1),
    (0x1ae, 1, 1, 218),
    (0x1af, 1, 1, 1),
    (0x1b1, 2, 1, 217),
    (0x1b3, 2, 2, 1),
    (0x1b7, 1, 1, 219),
    (0x1b8, 1, 1, 1),
    (0x1bc, 1, 1, 1),
    (0x1c4, 1, 1, 2),
    (0x1c5, 1, 1, 1),
    (0x1c7, 1, 1, 2),
    (0x1c8, 1, 1, 1),
    (0x1ca, 1, 1, 2),
    (0x1cb, 9, 2, 1),
    (0x1de, 9, 2, 1),
    (0x1f1, 1, 1, 2),
    (0x1f2, 2, 2, 1),
    (0x1f6, 1, 1, -97),
    (0x1f7, 1, 1, -56),
    (0x1f8, 20, 2, 1),
    (0x220, 1, 1, -130),
    (0x222, 9, 2, 1),
    (0x23a, 1, 1, 10795),
    (0x23b, 1, 1, 1),
    (0x23d, 1, 1, -163),
    (0x23e, 1, 1, 10792),
    (0x241, 1, 1, 1),
    (0x243, 1, 1, -195),
    (0x244, 1, 1, 69),
    (0x245, 1, 1, 71),
    (0x246, 5, 2, 1),
    (0x370, 2, 2, 1),
    (0x376, 1, 1, 1),
    (0x37f, 1, 1, 116),
    (0x386, 1, 1, 38),
    (0x388, 3, 1, 37),
    (0x38c, 1, 1, 64),
    (0x38e, 2, 1, 63),
    (0x391, 17, 1, 32),
    (0x3a3, 9, 1, 32),
    (0x3cf, 1, 1, 8),
    (0x3d8, 12, 2, 1),
    (0x3f4, 1, 1, -60),
    (0x3f7, 1, 1, 1),
    (0x3f9, 1, 1, -7),
    (0x3fa, 1, 1, 1),
    (0x3fd, 3, 1, -130),
    (0x400, 16, 1, 80),
    (0x410, 32, 1, 32),
    (0x460, 17, 2, 1),
    (0x48a, 27, 2, 1),
    (0x4c0, 1, 1, 15),
    (0x4c1, 7, 2, 1),
    (0x4d0, 48, 2, 1),
    (0x531, 38, 1, 48),
    (0x10a0, 38, 1, 7264),
    (0x10c7, 1, 1, 7264),
    (0x10cd, 1, 1, 7264),
    (0x13a0, 80, 1, 38864),
    (0x13f0, 6, 1, 8),
    (0x1c89, 1, 1, 1),
    (0x1c90, 43, 1, -3008),
    (0x1cbd, 3, 1, -3008),
    (0x1e00, 75, 2, 1),
    (0x1e9e, 1, 1, -7615),
    (0x1ea0, 48, 2, 1),
    (0x1f08, 8, 1, -8),
    (0x1f18, 6, 1, -8),
    (0x1f28, 8, 1, -8),
    (0x1f38, 8, 1, -8),
    (0x1f48, 6, 1, -8),
    (0x1f59, 4, 2, -8),
    (0x1f68, 8, 1, -8),
    (0x1f88, 8, 1, -8),
    (0x1f98, 8, 1, -8),
    (0x1fa8, 8, 1, -8),
    (0x1fb8, 2, 1, -8),
    (0x1fba, 2, 1, -74),
    (0x1fbc, 1, 1, -9),
    (0x1fc8, 4, 1, -86),
    (0x1fcc, 1, 1, -9),
    (0x1fd8, 2, 1, -8),
    (0x1fda, 2, 1, -100),
    (0x1fe8, 2, 1, -8),
    (0x1fea, 2, 1, -112),
    (0x1fec, 1, 1, -7),
    (0x1ff8, 2, 1, -128),
    (0x1ffa, 2, 1, -126),
    (0x1ffc, 1, 1, -9),
    (0x2126, 1, 1, -7517),
    (0x212a, 1, 1, -8383),
    (0x212b, 1, 1, -8262),
    (0x2132, 1, 1, 28),
    (0x2160, 16, 1, 16),
    (0x2183, 1, 1, 1),
    (0x24b6, 26, 1, 26),
    (0x2c00, 48, 1, 48),
    (0x2c60, 1, 1, 1),
    (0x2c62, 1, 1, -10743),
    (0x2c63, 1, 1, -3814),
    (0x2c64, 1, 1, -10727),
    (0x2c67, 3, 2, 1),
    (0x2c6d, 1, 1, -10780),
    (0x2c6e, 1, 1, -10749),
    (0x2c6f, 1, 1, -10783),
    (0x2c70, 1, 1, -10782),
    (0x2c72, 1, 1, 1),
    (0x2c75, 1, 1, 1),
    (0x2c7e, 2, 1, -10815),
    (0x2c80, 50, 2, 1),
    (0x2ceb, 2, 2, 1),
    (0x2cf2, 1, 1, 1),
    (0xa640, 23, 2, 1),
    (0xa680, 14, 2, 1),
    (0xa722, 7, 2, 1),
    (0xa732, 31, 2, 1),
    (0xa779, 2, 2, 1),
    (0xa77d, 1, 1, -35332),
    (0xa77e, 5, 2, 1),
    (0xa78b, 1, 1, 1),
    (0xa78d, 1, 1, -42280),
    (0xa790, 2, 2, 1),
    (0xa796, 10, 2, 1),
    (0xa7aa, 1, 1, -42308),
    (0xa7ab, 1, 1, -42319),
    (0xa7ac, 1, 1, -42315),
    (0xa7ad, 1, 1, -42305),
    (0xa7ae, 1, 1, -42308),
    (0xa7b0, 1, 1, -42258),
    (0xa7b1, 1, 1, -42282),
    (0xa7b2, 1, 1, -42261),
    (0xa7b3, 1, 1, 928),
    (0xa7b4, 8, 2, 1),
    (0xa7c4, 1, 1, -48),
    (0xa7c5, 1, 1, -42307),
    (0xa7c6, 1, 1, -35384),
    (0xa7c7, 2, 2, 1),
    (0xa7cb, 1, 1, -42343),
    (0xa7cc, 8, 2, 1),
    (0xa7dc, 1, 1, -42561),
    (0xa7f5, 1, 1, 1),
    (0xff21, 26, 1, 32),
    (0x10400, 40, 1, 40),
    (0x104b0, 36, 1, 40),
    (0x10570, 11, 1, 39),
    (0x1057c, 15, 1, 39),
    (0x1058c, 7, 1, 39),
    (0x10594, 2, 1, 39),
    (0x10c80, 51, 1, 64),
    (0x10d50, 22, 1, 32),
    (0x118a0, 32, 1, 32),
    (0x16e40, 32, 1, 32),
    (0x16ea0, 25, 1, 27),
    (0x1e900, 34, 1, 34),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The runs of `LOWER`, computed from std.
    fn runs_from_std() -> Vec<(u32, u8, u8, i32)> {
        let mut runs: Vec<(u32, u32, u32, i32)> = Vec::new();
        for u in 0..=0x10_FFFF {
            let Some(c) = char::from_u32(u) else { continue };
            let mut lower = c.to_lowercase();
            let (Some(l), None) = (lower.next(), lower.next()) else {
                continue;
            };
            if l == c {
                continue;
            }
            let delta = l as i32 - u as i32;
            if let Some(run) = runs.last_mut() {
                let last = run.0 + (run.1 - 1) * run.2;
                if run.3 == delta && ((run.1 == 1 && u - last <= 2) || u - last == run.2) {
                    run.2 = u - last;
                    run.1 += 1;
                    continue;
                }
            }
            runs.push((u, 1, 1, delta));
        }
        runs.into_iter()
            .map(|(s, n, step, d)| (s, n.try_into().unwrap(), step.try_into().unwrap(), d))
            .collect()
    }

    #[test]
    fn lowercase_is_std() {
        let runs = runs_from_std();
        let table: String = runs
            .iter()
            .map(|(s, n, step, d)| format!("    ({s:#x}, {n}, {step}, {d}),\n"))
            .collect();
        assert!(
            runs == LOWER,
            "std's lower-case mapping changed (another Unicode version): replace LOWER with these {} runs:\n{table}",
            runs.len()
        );
        for u in 0..=0x10_FFFF {
            if let Some(c) = char::from_u32(u) {
                assert!(lowercase(c).eq(c.to_lowercase()), "{c:?}");
            }
        }
    }

    fn check_f64(v: f64) {
        assert_eq!(display_f64(v), format!("{v}"), "{:#x}", v.to_bits());
    }

    #[test]
    fn display_f64_is_std_for_chosen_values() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.5,
            1.5,
            0.1,
            0.2,
            0.3,
            1e-7,
            1.5e-7,
            123.456,
            1e15,
            1e16,
            1e21,
            1e22,
            1e100,
            1e-100,
            1e300,
            1e308,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            f64::NAN,
            -f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            9_007_199_254_740_992.0,
            9_007_199_254_740_993.0,
            18_446_744_073_709_551_615.0,
            4_294_967_295.5,
            1_000_000.000_001,
            2.5,
            0.000_001,
            1e-5,
            1e-6,
        ];
        for e in -330..=310 {
            for m in [
                1.0,
                2.5,
                5.0,
                7.0,
                9.999_999_999_999_999,
                1.234_567_890_123_456_7,
            ] {
                values.push(m * 10f64.powi(e));
            }
        }
        for p in -1080..=1030 {
            values.push(2f64.powi(p));
            values.push(2f64.powi(p) * 3.0);
        }
        for v in values {
            check_f64(v);
            check_f64(-v);
            check_f64(f64::from_bits(v.to_bits().wrapping_add(1)));
            check_f64(f64::from_bits(v.to_bits().wrapping_sub(1)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn display_f64_is_std_for_any_bits(bits in any::<u64>()) {
            check_f64(f64::from_bits(bits));
        }

        #[test]
        fn display_f64_is_std_for_any_double(v in any::<f64>()) {
            check_f64(v);
        }

        /// Doubles with few binary places, whose shortest digits can be a tie.
        #[test]
        fn display_f64_is_std_near_ties(m in (1u64 << 52)..(1u64 << 53), p in -12i32..=40) {
            check_f64(m as f64 * 2f64.powi(p));
            check_f64((m - m % 1000) as f64 * 2f64.powi(p));
        }
    }
}
