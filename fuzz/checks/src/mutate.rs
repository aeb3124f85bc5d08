//! The short fuzz pass `make test` (and so CI) runs on stable: each seed of
//! each target mutated the way libFuzzer's simplest mutators do (bit flips,
//! bytes set to values parsers treat specially, inserts, deletes, a chunk
//! repeated, a cut, a splice with another seed), then fed to the target's
//! check. It is no substitute for `make fuzz` (no coverage guidance), but
//! it costs no instrumented build (docs/fuzzing.md), and each run tries new
//! inputs: the seed of the generator changes with every run and is printed
//! with any input that fails, so the failure can be replayed.

/// xorshift64*: a small, well-known generator; nothing here needs more.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Bytes that parsers of webhooks, JSON, forms, JWTs and numbers give a
/// meaning to: separators, quotes, escapes, digits, signs, NUL (the field
/// separator of the targets), high bytes (invalid UTF-8).
const SPECIAL: &[u8] = b"\0\xff\x80\xc3\"'\\=&%+-.,:;/?#{}[]<>()\n\r\t 0179eE";

/// One input made from `seed` by one to four mutations (`others`: the
/// target's other seeds, for splices).
pub fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(7) {
            0 if len > 0 => {
                let i = rng.below(len);
                data[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                data[i] = SPECIAL[rng.below(SPECIAL.len())];
            }
            2 => {
                let i = rng.below(len + 1);
                data.insert(i, SPECIAL[rng.below(SPECIAL.len())]);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(8));
                data.drain(i..i + n);
            }
            4 if len > 0 => {
                // A chunk written again: long fields, repeated parameters.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                let chunk = data[i..i + n].to_vec();
                let at = rng.below(data.len() + 1);
                data.splice(
                    at..at,
                    chunk.iter().copied().cycle().take(n * (1 + rng.below(8))),
                );
            }
            5 if len > 0 => data.truncate(rng.below(len)),
            6 if !others.is_empty() => {
                let other = &others[rng.below(others.len())];
                let cut = rng.below(data.len() + 1);
                let from = rng.below(other.len() + 1);
                data.truncate(cut);
                data.extend_from_slice(&other[from..]);
            }
            _ => data.push(SPECIAL[rng.below(SPECIAL.len())]),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_makes_the_same_inputs() {
        let seeds = vec![b"From=%2B447700900001&To=%2B447700900002".to_vec()];
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        for _ in 0..100 {
            assert_eq!(
                mutate(&mut a, &seeds[0], &seeds),
                mutate(&mut b, &seeds[0], &seeds)
            );
        }
    }

    #[test]
    fn mutations_change_the_input_and_stay_small() {
        let seed = b"{\"participants\":[]}".to_vec();
        let mut rng = Rng::new(42);
        let made: Vec<Vec<u8>> = (0..200).map(|_| mutate(&mut rng, &seed, &[])).collect();
        assert!(made.iter().filter(|m| **m != seed).count() > 150);
        assert!(made.iter().all(|m| m.len() <= seed.len() + 4 * 64 * 8 + 4));
    }
}
