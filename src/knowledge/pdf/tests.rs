use super::*;

// Printed by Chromium from HTML (embedded font subsets, as most PDFs on the web are).
const RETURNS: &[u8] = include_bytes!("../../../tests/fixtures/returns-policy.pdf");
// Three pages, each with Chromium's running header (date and title) and footer (address and
// "n/3"), a bullet list, and a word hyphenated at the end of a line.
const DELIVERY: &[u8] = include_bytes!("../../../tests/fixtures/delivery-guide.pdf");

#[test]
fn a_pdf_reads_as_markdown_with_its_headings_and_paragraphs() {
    let markdown = to_markdown(RETURNS).unwrap();
    let expected = "\
# Returns and refunds

You can return any unworn item within 30 days of delivery for a full refund. Items must be in \
their original packaging with the tags still attached. Sale items marked “final sale” cannot \
be returned.

## How to start a return

Sign in to your account, open the order and choose “Return an item”. Print the prepaid label \
we email you and drop the parcel at any post office. Return shipping is free within Germany; \
from other countries it costs €6.50, taken from your refund.

## When your refund arrives

We refund to the original payment method within five working days of receiving your parcel. \
Card refunds can take another three to five days to show on your statement, depending on \
your bank. Gift cards are refunded as store credit.

## Exchanges

We do not offer direct exchanges. Return the item for a refund and place a new order for the \
size or colour you want; if it sells out meanwhile, we cannot hold stock for you.

## Damaged or wrong items

If your order arrives damaged or is not what you ordered, write to us within 14 days with a \
photo of the item and the packaging. We send a replacement at no cost, or refund you in full \
if the item is no longer available.

## Warranty

Our mugs and kettles carry a two-year warranty against manufacturing defects. Cracks from \
dropping or from use on an induction hob are not covered.";
    assert_eq!(markdown, expected);
}

#[test]
fn running_headers_and_footers_go_hyphens_mend_and_lists_stay_lists() {
    let markdown = to_markdown(DELIVERY).unwrap();
    let expected = "\
# Delivery

We ship every order from our warehouse in Leipzig. Orders placed before two in the afternoon \
on a working day leave the same day; later orders leave the next working day. You get an \
email with a tracking link as soon as the parcel is handed to the carrier.

## Delivery times

- Germany: one to two working days

- Austria and the Netherlands: two to three working days

- Rest of the European Union: three to six working days

Deliveries outside the European Union are not possible at the moment, and we cannot send \
parcels to packing stations or post office boxes. International customers can still collect \
an order from our shop in Leipzig.

## Costs

Standard delivery costs €4.90 within Germany and is free for orders above €50. Express \
delivery, on the next working day, costs €12.90 and can be chosen at checkout until noon. \
Delivery to other countries of the European Union costs €9.90 whatever the order value.

## Missing parcels

If your tracking link has not moved for five working days, write to us with your order \
number. We open an investigation with the carrier and, if the parcel is lost, send a new one \
or refund you within ten days.";
    assert_eq!(markdown, expected);
}

#[test]
fn a_pdf_that_only_forbids_editing_is_read_and_one_locked_by_a_password_is_refused() {
    // The same document encrypted (AES-256) with an owner password only, and with a password
    // to open it (`qpdf --encrypt`).
    let no_editing = include_bytes!("../../../tests/fixtures/no-editing.pdf");
    assert_eq!(
        to_markdown(no_editing).unwrap(),
        to_markdown(RETURNS).unwrap()
    );
    let locked = include_bytes!("../../../tests/fixtures/locked.pdf");
    assert_eq!(to_markdown(locked), Err(PdfError::Locked));
}

#[test]
fn a_broken_pdf_or_one_without_text_is_refused_without_a_panic() {
    for broken in [
        &RETURNS[..RETURNS.len() / 2],
        &RETURNS[..40],
        b"%PDF-1.7\nnonsense",
    ] {
        assert!(
            matches!(to_markdown(broken), Err(PdfError::Unreadable(_))),
            "{:?}",
            to_markdown(broken)
        );
    }
    assert_eq!(to_markdown(&blank_page()), Err(PdfError::NoText));
}

/// A one-page PDF whose page draws nothing.
fn blank_page() -> Vec<u8> {
    use pdf_extract::{Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let content = doc.add_object(Stream::new(dictionary! {}, Vec::new()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page.into()],
            "Count" => 1,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

#[test]
fn page_numbers_are_told_from_text() {
    for number in [
        "7",
        "- 7 -",
        "Page 7",
        "Page 7 of 9",
        "7 / 9",
        "Seite 3 von 4",
        "página 2 de 5",
    ] {
        assert!(is_page_number(number), "{number}");
    }
    for text in ["Page", "7 days", "Call 555-0100 now", "of", "Chapter 7"] {
        assert!(!is_page_number(text), "{text}");
    }
}

#[test]
fn lines_join_into_paragraphs_mending_hyphenated_words() {
    let joined = |first: &str, next: &str| {
        let mut paragraph = first.to_owned();
        join_line(&mut paragraph, next);
        paragraph
    };
    assert_eq!(joined("a refund-", "able deposit"), "a refundable deposit");
    assert_eq!(joined("Inter \u{2010}", "national"), "International");
    assert_eq!(joined("non-", "Germany"), "non- Germany");
    assert_eq!(joined("costs 4 -", "5 days"), "costs 4 - 5 days");
    assert_eq!(joined("same", "day"), "same day");
}

#[test]
fn text_is_escaped_so_markdown_shows_it_as_written() {
    assert_eq!(escape("# 1 fan"), "\\# 1 fan");
    assert_eq!(escape("1. Unpack"), "1\\. Unpack");
    assert_eq!(escape("- not a list"), "\\- not a list");
    assert_eq!(
        escape("<script>x</script> *a* _b_ [c](d)"),
        "\\<script\\>x\\</script\\> \\*a\\* \\_b\\_ \\[c\\](d)"
    );
    assert_eq!(escape("2024 prices"), "2024 prices");
    assert_eq!(bullet("• Germany"), Some("Germany"));
    assert_eq!(bullet("\u{f0b7} Word's bullet"), Some("Word's bullet"));
    assert_eq!(bullet("-5 °C"), None);
    assert_eq!(bullet("•"), None);
}
