//! Whole 20 ms frames out of whatever sizes come in. Vonage sends (and
//! expects back) frames of exactly the call's frame size; a client that
//! sends other sizes gets the same bytes back, in order, cut into whole
//! frames. A frame that arrives whole goes back as it came (no copy).

use bytes::{Bytes, BytesMut};

pub struct Reframer {
    frame: usize,
    carry: BytesMut,
}

impl Reframer {
    pub fn new(frame: usize) -> Self {
        Self {
            frame: frame.max(1),
            carry: BytesMut::new(),
        }
    }

    /// The whole frames `data` completes, in order; the rest waits for the
    /// next call. Never more than one frame is held back.
    pub fn push(&mut self, data: Bytes, out: &mut Vec<Bytes>) {
        if self.carry.is_empty() && data.len() == self.frame {
            out.push(data);
            return;
        }
        self.carry.extend_from_slice(&data);
        while self.carry.len() >= self.frame {
            out.push(self.carry.split_to(self.frame).freeze());
        }
    }

    /// Bytes held back (less than one frame).
    pub fn pending(&self) -> usize {
        self.carry.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_frames_only_in_order() {
        let mut r = Reframer::new(640);
        let mut out = Vec::new();
        let input: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let mut at = 0;
        for size in [640, 1, 639, 1000, 7, 1713, 1000] {
            r.push(Bytes::copy_from_slice(&input[at..at + size]), &mut out);
            at += size;
        }
        assert!(out.iter().all(|f| f.len() == 640));
        let joined: Vec<u8> = out.iter().flat_map(|f| f.iter().copied()).collect();
        assert_eq!(joined.len() + r.pending(), at);
        assert_eq!(&joined[..], &input[..joined.len()]);
        assert!(r.pending() < 640);
    }

    #[test]
    fn a_whole_frame_is_passed_through() {
        let mut r = Reframer::new(320);
        let mut out = Vec::new();
        let f = Bytes::from(vec![7u8; 320]);
        r.push(f.clone(), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].as_ptr(), f.as_ptr());
    }
}
