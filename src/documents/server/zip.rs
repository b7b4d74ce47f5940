//! A ZIP archive written as it streams: each entry's header goes out before its bytes are
//! known, and its checksum and size follow them (a data descriptor, APPNOTE 4.3.9), so that
//! no file is ever held whole in memory. Entries are stored, not compressed: documents are
//! PDFs and images, which compress by a few percent at a large cost in CPU. Names are UTF-8
//! and say so (general purpose flag bit 11).
//!
//! The archive stays within the classic format's 4 GiB (no ZIP64): callers bound its size.

use sha2::{Digest, Sha256};

use crate::base::server::tokens::hex;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
/// Sizes and checksum follow the data (bit 3); the name is UTF-8 (bit 11).
const FLAGS: u16 = 0x0008 | 0x0800;
/// 2.0: what a reader needs for data descriptors.
const VERSION_NEEDED: u16 = 20;
/// Made on Unix (3), by the 2.0 rules: readers then take the file mode from the attributes.
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
/// A regular file, readable by all (`-rw-r--r--`), in the high half of the attributes.
const FILE_MODE: u32 = 0o100_644 << 16;
/// Most entries the classic format holds.
pub(super) const MAX_ENTRIES: usize = u16::MAX as usize;

/// A date and time as ZIP headers carry it (MS-DOS format, local time by convention; here
/// UTC, as the pages show dates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct DosTime {
    time: u16,
    date: u16,
}

impl DosTime {
    /// 1980-01-01 00:00, the earliest the format can say: for documents without a date.
    pub(super) const EARLIEST: DosTime = DosTime {
        time: 0,
        date: (1 << 5) | 1,
    };

    /// From `YYYY-MM-DDTHH:MM:SS…` (the rows' ISO 8601 in UTC). Out of the format's range
    /// (1980–2107) or unreadable: [`DosTime::EARLIEST`].
    pub(super) fn from_iso(iso: Option<&str>) -> DosTime {
        let Some(iso) = iso else {
            return Self::EARLIEST;
        };
        let field = |range: std::ops::Range<usize>| iso.get(range)?.parse::<u16>().ok();
        let parts = (
            field(0..4),
            field(5..7),
            field(8..10),
            field(11..13),
            field(14..16),
            field(17..19),
        );
        let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) = parts else {
            return Self::EARLIEST;
        };
        if !(1980..=2107).contains(&y) || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
            return Self::EARLIEST;
        }
        DosTime {
            time: (h.min(23) << 11) | (mi.min(59) << 5) | (s.min(59) / 2),
            date: ((y - 1980) << 9) | (mo << 5) | d,
        }
    }
}

/// What the central directory says of one finished entry.
#[derive(Debug)]
struct Written {
    name: String,
    when: DosTime,
    crc: u32,
    size: u32,
    offset: u32,
}

/// An entry whose header has been written and whose bytes are passing through.
#[derive(Debug)]
pub(super) struct Entry {
    name: String,
    when: DosTime,
    offset: u32,
    crc: crc32fast::Hasher,
    sha256: Sha256,
    size: u64,
}

impl Entry {
    /// Bytes of the entry's data so far.
    pub(super) fn size(&self) -> u64 {
        self.size
    }
}

/// A finished entry's size and SHA-256, for the manifest and `SHA256SUMS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Digested {
    pub size: u64,
    pub sha256: String,
}

/// Writes an archive as a sequence of byte chunks; the caller sends each on as it comes.
#[derive(Debug, Default)]
pub(super) struct ZipWriter {
    /// Bytes handed out so far: where the next header starts.
    offset: u64,
    entries: Vec<Written>,
}

/// The archive would pass the classic format's limits.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct TooLarge;

impl ZipWriter {
    /// Bytes handed out so far.
    pub(super) fn written(&self) -> u64 {
        self.offset
    }

    /// The header of a new entry. Nothing is recorded until [`ZipWriter::finish`]: an entry
    /// that is abandoned instead (its source failed half-way) is left out of the central
    /// directory, which readers go by, so its bytes are skipped as unused.
    pub(super) fn start(
        &mut self,
        name: &str,
        when: DosTime,
    ) -> Result<(Entry, Vec<u8>), TooLarge> {
        if self.entries.len() >= MAX_ENTRIES || name.len() > usize::from(u16::MAX) {
            return Err(TooLarge);
        }
        let offset = u32::try_from(self.offset).map_err(|_| TooLarge)?;
        let mut header = Vec::with_capacity(30 + name.len());
        put32(&mut header, LOCAL_HEADER);
        put16(&mut header, VERSION_NEEDED);
        put16(&mut header, FLAGS);
        put16(&mut header, 0); // stored
        put16(&mut header, when.time);
        put16(&mut header, when.date);
        put32(&mut header, 0); // crc, size and size follow the data
        put32(&mut header, 0);
        put32(&mut header, 0);
        put16(&mut header, name.len() as u16);
        put16(&mut header, 0); // no extra field
        header.extend_from_slice(name.as_bytes());
        self.offset += header.len() as u64;
        let entry = Entry {
            name: name.to_owned(),
            when,
            offset,
            crc: crc32fast::Hasher::new(),
            sha256: Sha256::new(),
            size: 0,
        };
        Ok((entry, header))
    }

    /// Accounts for a chunk of the entry's data, which the caller sends as it is.
    pub(super) fn data(&mut self, entry: &mut Entry, chunk: &[u8]) {
        entry.crc.update(chunk);
        entry.sha256.update(chunk);
        entry.size += chunk.len() as u64;
        self.offset += chunk.len() as u64;
    }

    /// Ends the entry: its data descriptor, to be sent after its data.
    pub(super) fn finish(&mut self, entry: Entry) -> Result<(Digested, Vec<u8>), TooLarge> {
        let size = u32::try_from(entry.size).map_err(|_| TooLarge)?;
        let crc = entry.crc.finalize();
        let mut descriptor = Vec::with_capacity(16);
        put32(&mut descriptor, DATA_DESCRIPTOR);
        put32(&mut descriptor, crc);
        put32(&mut descriptor, size);
        put32(&mut descriptor, size);
        self.offset += descriptor.len() as u64;
        let digested = Digested {
            size: entry.size,
            sha256: hex(&entry.sha256.finalize()),
        };
        self.entries.push(Written {
            name: entry.name,
            when: entry.when,
            crc,
            size,
            offset: entry.offset,
        });
        Ok((digested, descriptor))
    }

    /// A whole entry at once, for small texts made here (the manifest).
    pub(super) fn whole(
        &mut self,
        name: &str,
        when: DosTime,
        data: &[u8],
    ) -> Result<Vec<u8>, TooLarge> {
        let (mut entry, mut out) = self.start(name, when)?;
        self.data(&mut entry, data);
        out.extend_from_slice(data);
        let (_, descriptor) = self.finish(entry)?;
        out.extend_from_slice(&descriptor);
        Ok(out)
    }

    /// The central directory and its end record: the archive's last bytes.
    pub(super) fn end(self) -> Result<Vec<u8>, TooLarge> {
        let start = u32::try_from(self.offset).map_err(|_| TooLarge)?;
        let mut out = Vec::new();
        for e in &self.entries {
            put32(&mut out, CENTRAL_HEADER);
            put16(&mut out, VERSION_MADE_BY);
            put16(&mut out, VERSION_NEEDED);
            put16(&mut out, FLAGS);
            put16(&mut out, 0);
            put16(&mut out, e.when.time);
            put16(&mut out, e.when.date);
            put32(&mut out, e.crc);
            put32(&mut out, e.size);
            put32(&mut out, e.size);
            put16(&mut out, e.name.len() as u16);
            put16(&mut out, 0); // extra
            put16(&mut out, 0); // comment
            put16(&mut out, 0); // disk
            put16(&mut out, 0); // internal attributes
            put32(&mut out, FILE_MODE);
            put32(&mut out, e.offset);
            out.extend_from_slice(e.name.as_bytes());
        }
        let size = u32::try_from(out.len()).map_err(|_| TooLarge)?;
        start.checked_add(size).ok_or(TooLarge)?;
        let count = self.entries.len() as u16;
        put32(&mut out, END_OF_CENTRAL_DIRECTORY);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, count);
        put16(&mut out, count);
        put32(&mut out, size);
        put32(&mut out, start);
        put16(&mut out, 0); // no comment
        Ok(out)
    }
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Reads an archive back by its central directory, as unzip does: (name, data) pairs.
    pub(in crate::documents::server) fn read_back(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
        let le16 = |at: usize| u16::from_le_bytes([archive[at], archive[at + 1]]) as usize;
        let le32 = |at: usize| u32::from_le_bytes(archive[at..at + 4].try_into().unwrap()) as usize;
        let end = archive.len() - 22;
        assert_eq!(le32(end), END_OF_CENTRAL_DIRECTORY as usize);
        let count = le16(end + 10);
        let mut at = le32(end + 16);
        let mut entries = Vec::new();
        for _ in 0..count {
            assert_eq!(le32(at), CENTRAL_HEADER as usize);
            assert_eq!(le16(at + 8) as u16, FLAGS);
            let crc = le32(at + 16) as u32;
            let size = le32(at + 24);
            let name_len = le16(at + 28);
            let offset = le32(at + 42);
            let name = String::from_utf8(archive[at + 46..at + 46 + name_len].to_vec()).unwrap();
            assert_eq!(le32(offset), LOCAL_HEADER as usize);
            let local_name_len = le16(offset + 26);
            assert_eq!(
                &archive[offset + 30..offset + 30 + local_name_len],
                name.as_bytes()
            );
            let data_at = offset + 30 + local_name_len;
            let data = archive[data_at..data_at + size].to_vec();
            assert_eq!(crc32fast::hash(&data), crc, "{name}");
            assert_eq!(le32(data_at + size), DATA_DESCRIPTOR as usize);
            entries.push((name, data));
            at += 46 + name_len;
        }
        entries
    }

    #[test]
    fn entries_read_back_with_their_names_and_checksums() {
        let mut zip = ZipWriter::default();
        let mut out = Vec::new();
        out.extend(zip.whole("a.txt", DosTime::EARLIEST, b"hello").unwrap());
        let (mut entry, header) = zip.start("Rechnung März/ü.pdf", DosTime::EARLIEST).unwrap();
        out.extend(header);
        for chunk in [&b"%PDF-"[..], b"1.4 ", b"rest"] {
            zip.data(&mut entry, chunk);
            out.extend_from_slice(chunk);
        }
        let (digested, descriptor) = zip.finish(entry).unwrap();
        out.extend(descriptor);
        assert_eq!(digested.size, 13);
        assert_eq!(digested.sha256, hex(&Sha256::digest(b"%PDF-1.4 rest")));
        out.extend(zip.end().unwrap());
        let entries = read_back(&out);
        assert_eq!(entries[0], ("a.txt".to_owned(), b"hello".to_vec()));
        assert_eq!(
            entries[1],
            ("Rechnung März/ü.pdf".to_owned(), b"%PDF-1.4 rest".to_vec())
        );
    }

    #[test]
    fn an_abandoned_entry_is_not_in_the_directory() {
        let mut zip = ZipWriter::default();
        let mut out = Vec::new();
        let (mut entry, header) = zip.start("broken.pdf", DosTime::EARLIEST).unwrap();
        out.extend(header);
        zip.data(&mut entry, b"half");
        out.extend_from_slice(b"half");
        drop(entry);
        out.extend(zip.whole("ok.txt", DosTime::EARLIEST, b"fine").unwrap());
        out.extend(zip.end().unwrap());
        let entries = read_back(&out);
        assert_eq!(entries, vec![("ok.txt".to_owned(), b"fine".to_vec())]);
    }

    #[test]
    fn dates_follow_the_format_or_fall_back_to_its_earliest() {
        let t = DosTime::from_iso(Some("2026-03-15T10:30:58Z"));
        assert_eq!(t.date, (46 << 9) | (3 << 5) | 15);
        assert_eq!(t.time, (10 << 11) | (30 << 5) | 29);
        for bad in [
            None,
            Some("1970-01-01T00:00:00Z"),
            Some("2026-13-01T00:00:00Z"),
            Some("x"),
        ] {
            assert_eq!(DosTime::from_iso(bad), DosTime::EARLIEST, "{bad:?}");
        }
    }
}
