//! A zip archive writer, stored (uncompressed) entries only: enough for a Gradescope autograder
//! bundle, with no dependency.
//!
//! The layout is the one of PKWARE's APPNOTE: for each file a local header and the data, then the
//! central directory (one header per file), then the end-of-central-directory record. Names are
//! UTF-8 (flag bit 11), Unix permissions travel in the external attributes (so `run_autograder`
//! stays executable), and every entry has the same fixed time, so the same files always make the
//! same archive. No Zip64: a bundle is far below 4 GiB and 65 535 files, and larger input is an
//! error.

/// The fixed modification time of every entry: 2024-01-01 00:00, in MS-DOS format.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = ((2024 - 1980) << 9) | (1 << 5) | 1;

/// One file to store.
pub struct Entry {
    /// Its path in the archive, `/`-separated, relative.
    pub name: String,
    /// Its content.
    pub data: Vec<u8>,
    /// Unix permission bits, such as 0o644 or 0o755.
    pub mode: u32,
}

/// The archive holding `entries`, in their order.
pub fn write(entries: &[Entry]) -> Result<Vec<u8>, String> {
    if entries.len() > u16::MAX as usize {
        return Err(format!(
            "{} files are too many for a zip without Zip64",
            entries.len()
        ));
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let name = e.name.as_bytes();
        let too_big =
            |what: &str| format!("{} is too large for a zip without Zip64 ({what})", e.name);
        let size = u32::try_from(e.data.len()).map_err(|_| too_big("its size"))?;
        let offset = u32::try_from(out.len()).map_err(|_| too_big("its offset"))?;
        let name_len = u16::try_from(name.len()).map_err(|_| too_big("its name"))?;
        let crc = crc32(&e.data);
        // Local file header.
        put32(&mut out, 0x0403_4b50);
        put16(&mut out, 20); // version needed: 2.0
        put16(&mut out, 1 << 11); // flags: UTF-8 names
        put16(&mut out, 0); // method: stored
        put16(&mut out, DOS_TIME);
        put16(&mut out, DOS_DATE);
        put32(&mut out, crc);
        put32(&mut out, size);
        put32(&mut out, size);
        put16(&mut out, name_len);
        put16(&mut out, 0); // extra field length
        out.extend_from_slice(name);
        out.extend_from_slice(&e.data);
        // Central directory header.
        put32(&mut central, 0x0201_4b50);
        put16(&mut central, (3 << 8) | 20); // made by: Unix, 2.0
        put16(&mut central, 20);
        put16(&mut central, 1 << 11);
        put16(&mut central, 0);
        put16(&mut central, DOS_TIME);
        put16(&mut central, DOS_DATE);
        put32(&mut central, crc);
        put32(&mut central, size);
        put32(&mut central, size);
        put16(&mut central, name_len);
        put16(&mut central, 0); // extra field length
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number
        put16(&mut central, 0); // internal attributes
        put32(&mut central, (0o100_000 | (e.mode & 0o7777)) << 16); // regular file + mode
        put32(&mut central, offset);
        central.extend_from_slice(name);
    }
    let count = entries.len() as u16;
    let central_offset =
        u32::try_from(out.len()).map_err(|_| "the archive is too large for a zip without Zip64")?;
    let central_size = central.len() as u32;
    out.extend_from_slice(&central);
    // End of central directory.
    put32(&mut out, 0x0605_4b50);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk with the central directory
    put16(&mut out, count);
    put16(&mut out, count);
    put32(&mut out, central_size);
    put32(&mut out, central_offset);
    put16(&mut out, 0); // comment length
    Ok(out)
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), as zip and gzip use it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// Reads back the entries of an archive this module wrote (stored entries only): `(name, data,
/// mode)`. For tests, and for `cargo xtask autograder` to check what it wrote.
pub fn read(archive: &[u8]) -> Result<Vec<(String, Vec<u8>, u32)>, String> {
    let u16_at = |i: usize| -> Result<u16, String> {
        archive
            .get(i..i + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| format!("truncated at byte {i}"))
    };
    let u32_at = |i: usize| -> Result<u32, String> {
        archive
            .get(i..i + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("truncated at byte {i}"))
    };
    let end = archive
        .len()
        .checked_sub(22)
        .ok_or("too short to be a zip")?;
    if u32_at(end)? != 0x0605_4b50 {
        return Err("no end-of-central-directory record (or an archive comment)".into());
    }
    let count = u16_at(end + 10)? as usize;
    let mut at = u32_at(end + 16)? as usize;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(at)? != 0x0201_4b50 {
            return Err(format!("no central directory header at byte {at}"));
        }
        if u16_at(at + 10)? != 0 {
            return Err("a compressed entry: only stored entries are read".into());
        }
        let crc = u32_at(at + 16)?;
        let size = u32_at(at + 20)? as usize;
        let name_len = u16_at(at + 28)? as usize;
        let extra_len = u16_at(at + 30)? as usize;
        let comment_len = u16_at(at + 32)? as usize;
        let mode = (u32_at(at + 38)? >> 16) & 0o7777;
        let local = u32_at(at + 42)? as usize;
        let name_bytes = archive
            .get(at + 46..at + 46 + name_len)
            .ok_or("truncated name")?;
        let name = String::from_utf8(name_bytes.to_vec()).map_err(|_| "a name is not UTF-8")?;
        if u32_at(local)? != 0x0403_4b50 {
            return Err(format!("no local header for {name}"));
        }
        let data_at = local + 30 + u16_at(local + 26)? as usize + u16_at(local + 28)? as usize;
        let data = archive
            .get(data_at..data_at + size)
            .ok_or_else(|| format!("truncated data of {name}"))?
            .to_vec();
        if crc32(&data) != crc {
            return Err(format!("bad CRC for {name}"));
        }
        out.push((name, data, mode));
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn round_trip() {
        let entries = vec![
            Entry {
                name: "run_autograder".into(),
                data: b"#!/bin/sh\necho hi\n".to_vec(),
                mode: 0o755,
            },
            Entry {
                name: "course/labs/é.txt".into(),
                data: Vec::new(),
                mode: 0o644,
            },
        ];
        let archive = write(&entries).unwrap();
        let back = read(&archive).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].0, "run_autograder");
        assert_eq!(back[0].1, entries[0].data);
        assert_eq!(back[0].2, 0o755);
        assert_eq!(back[1].0, "course/labs/é.txt");
        assert_eq!(back[1].2, 0o644);
        assert_eq!(
            write(&entries).unwrap(),
            archive,
            "the same files, the same bytes"
        );
    }

    #[test]
    fn unzip_accepts_the_archive() {
        let unzip_here = std::process::Command::new("unzip")
            .arg("-v")
            .output()
            .is_ok_and(|o| o.status.success());
        if !unzip_here {
            eprintln!("unzip is not installed: checked with this module's reader only");
            return;
        }
        let entries = vec![Entry {
            name: "a/b.txt".into(),
            data: b"hello\n".repeat(100),
            mode: 0o644,
        }];
        let path = std::env::temp_dir().join(format!("gclabs-zip-{}.zip", std::process::id()));
        std::fs::write(&path, write(&entries).unwrap()).unwrap();
        let out = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&path)
            .output()
            .unwrap();
        let _ = std::fs::remove_file(&path);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("No errors detected"));
    }
}
