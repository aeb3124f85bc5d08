//! The 44-byte RIFF/WAVE header of 16-bit mono PCM, written once the data
//! length is known (when the call ends).

use super::SampleRate;

pub const HEADER_BYTES: usize = 44;

/// The header for `data_bytes` of 16-bit little-endian mono samples at
/// `rate`. RIFF sizes are 32-bit: the caller keeps `data_bytes` below
/// 4 GiB - 44 (the audio socket caps a recording's length well below).
pub fn header(rate: SampleRate, data_bytes: u32) -> [u8; HEADER_BYTES] {
    let channels: u16 = 1;
    let bits: u16 = 16;
    let block_align = channels * bits / 8;
    let byte_rate = rate.hz() * u32::from(block_align);
    let mut h = [0u8; HEADER_BYTES];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.saturating_add(data_bytes)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&channels.to_le_bytes());
    h[24..28].copy_from_slice(&rate.hz().to_le_bytes());
    h[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    h[32..34].copy_from_slice(&block_align.to_le_bytes());
    h[34..36].copy_from_slice(&bits.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

/// Whole seconds and milliseconds of `data_bytes` at `rate`.
pub fn duration_ms(rate: SampleRate, data_bytes: u64) -> u64 {
    data_bytes * 1000 / rate.bytes_per_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields() {
        let h = header(SampleRate::K16, 32_000);
        assert_eq!(&h[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(h[4..8].try_into().unwrap()), 32_036);
        assert_eq!(&h[8..16], b"WAVEfmt ");
        assert_eq!(u16::from_le_bytes([h[22], h[23]]), 1);
        assert_eq!(u32::from_le_bytes(h[24..28].try_into().unwrap()), 16_000);
        assert_eq!(u32::from_le_bytes(h[28..32].try_into().unwrap()), 32_000);
        assert_eq!(u16::from_le_bytes([h[32], h[33]]), 2);
        assert_eq!(u16::from_le_bytes([h[34], h[35]]), 16);
        assert_eq!(&h[36..40], b"data");
        assert_eq!(u32::from_le_bytes(h[40..44].try_into().unwrap()), 32_000);
        assert_eq!(duration_ms(SampleRate::K16, 32_000), 1000);
        assert_eq!(duration_ms(SampleRate::K8, 320), 20);
    }
}
