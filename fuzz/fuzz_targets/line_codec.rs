//! Fuzzes `LineCodec` and `sanitize`: any bytes, cut at fuzzer-chosen
//! points, must give the frames of the reference model (so the same frames
//! as one whole read), and every line, once sanitised, must hold nothing
//! harmful and be left alone by a second pass.
#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use chatroom::protocol::{sanitize, Frame};
use libfuzzer_sys::fuzz_target;
use model::{feed_in_pieces, first_harmful, model_frames};

fuzz_target!(|data: &[u8]| {
    // Header: the line limit, the number of cuts, then two bytes per cut.
    let [limit, cut_count, rest @ ..] = data else {
        return;
    };
    let max_line_bytes = usize::from(*limit % 64);
    let cut_bytes = usize::from(*cut_count % 8) * 2;
    if rest.len() < cut_bytes {
        return;
    }
    let (cuts, input) = rest.split_at(cut_bytes);
    let cuts: Vec<usize> = cuts
        .chunks(2)
        .map(|pair| usize::from(u16::from_le_bytes([pair[0], pair[1]])))
        .collect();

    let whole = feed_in_pieces(input, &[], max_line_bytes);
    assert_eq!(whole, model_frames(input, max_line_bytes), "model");
    assert_eq!(
        feed_in_pieces(input, &cuts, max_line_bytes),
        whole,
        "split at {cuts:?}"
    );

    for frame in whole {
        if let Frame::Line(line) = frame {
            let clean = sanitize(&line);
            if let Some((at, c, why)) = first_harmful(&clean) {
                panic!("{why} {c:?} at byte {at} of {clean:?} (from {line:?})");
            }
            assert!(!clean.contains(['\n', '\t']));
            assert_eq!(sanitize(&clean), clean, "not idempotent");
        }
    }
});
