//! Phone number validation on first use (admin routes only).

use std::time::Instant;

use callmask::phone::PhoneNumber;

use crate::common::ms;

/// What validating a number costs on first use, per option: the compact
/// table `PhoneNumber::parse` uses (built from the crate's metadata; only
/// the patterns of the number's calling code are compiled), against the
/// `phonenumber` crate's whole database (what it loaded before).
pub fn run() {
    let time = |f: &dyn Fn() -> bool| {
        let t = Instant::now();
        let ok = f();
        (t.elapsed(), ok)
    };
    let (gb, ok_gb) =
        time(&|| PhoneNumber::parse("+44 7700 900123").is_ok_and(|n| n.country() == "GB"));
    let (nanp, ok_us) =
        time(&|| PhoneNumber::parse("+1 416 555 0100").is_ok_and(|n| n.country() == "CA"));
    let (again, _) = time(&|| PhoneNumber::parse("+44 7700 900124").is_ok());
    let (whole, _) = time(&|| phonenumber::metadata::DATABASE.by_code(&44).is_some());
    println!("## Phone number validation, first use (admin routes only)\n");
    println!(
        "- +44 (4 regions) first parse + region: {:.2} ms{}",
        ms(gb),
        if ok_gb { "" } else { " (WRONG RESULT)" }
    );
    println!(
        "- +1 (25 NANP regions) first parse + region: {:.2} ms{}",
        ms(nanp),
        if ok_us { "" } else { " (WRONG RESULT)" }
    );
    println!("- a second +44 number: {:.3} ms", ms(again));
    println!(
        "- the phonenumber crate's whole database (the previous way): {:.1} ms\n",
        ms(whole)
    );
}
