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

#[test]
fn a_drawing_that_draws_itself_is_refused_before_it_overflows_the_stack() {
    assert_eq!(
        to_markdown(&one_page(true)),
        Err(PdfError::Unreadable(
            "its pages or drawings refer to themselves".to_owned()
        ))
    );
    assert_eq!(to_markdown(&one_page(false)), Err(PdfError::NoText));
}

/// A one-page PDF whose page draws nothing.
fn blank_page() -> Vec<u8> {
    one_page(false)
}

/// A one-page PDF that draws nothing — or, `looping`, draws a form that draws itself (with
/// the page's resources, as a form without its own resources does).
fn one_page(looping: bool) -> Vec<u8> {
    use pdf_extract::{Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let drawing = if looping {
        b"/X1 Do".to_vec()
    } else {
        Vec::new()
    };
    let form = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 10.into(), 10.into()] },
        drawing.clone(),
    ));
    let content = doc.add_object(Stream::new(dictionary! {}, drawing));
    let page = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content,
        "Resources" => dictionary! { "XObject" => dictionary! { "X1" => form } },
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
    for text in [
        "Page",
        "7 days",
        "Call 555-0100 now",
        "of",
        "Chapter 7",
        "0800 123 456",
        "0800-123-456",
        "12/05/2024",
        "10 20 30",
        "9 of 3",
    ] {
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
    assert_eq!(
        joined("We ship Monday -", "except holidays"),
        "We ship Monday - except holidays"
    );
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

fn line(page: u32, y: f64, x: f64, size: f64, text: &str) -> Line {
    Line {
        page,
        y,
        x,
        size,
        text: text.to_owned(),
    }
}

#[test]
fn a_chapter_heading_opening_each_page_and_a_phone_number_at_the_foot_stay() {
    let mut lines = Vec::new();
    for page in 1..=4 {
        lines.push(line(page, 800.0, 50.0, 9.0, "Mugs & Co. — Care guide"));
        lines.push(line(page, 760.0, 50.0, 18.0, &format!("Chapter {page}")));
        lines.push(line(page, 730.0, 50.0, 10.0, "Rinse before first use."));
        lines.push(line(page, 718.0, 50.0, 10.0, "Hand wash only."));
        lines.push(line(page, 40.0, 50.0, 10.0, "Questions? Call"));
        lines.push(line(page, 28.0, 50.0, 10.0, "0800 123 456"));
        lines.push(line(page, 16.0, 280.0, 9.0, &format!("{page} / 4")));
    }
    let markdown = Layout::of(lines).markdown();
    for page in 1..=4 {
        assert!(
            markdown.contains(&format!("# Chapter {page}\n")),
            "{markdown}"
        );
    }
    assert!(!markdown.contains("Care guide"), "{markdown}");
    assert!(!markdown.contains(" / 4"), "{markdown}");
    // The phone number at the same place at the foot of every page is a footer too.
    assert!(!markdown.contains("0800"), "{markdown}");

    // On one page nothing repeats: only a bare page number goes.
    let one = vec![
        line(1, 760.0, 50.0, 10.0, "Call us on"),
        line(1, 748.0, 50.0, 10.0, "0800 123 456"),
        line(1, 30.0, 280.0, 9.0, "1"),
    ];
    assert_eq!(Layout::of(one).markdown(), "Call us on 0800 123 456");
}

#[test]
fn a_paragraph_goes_on_into_the_next_column_unless_it_ended() {
    let lines = vec![
        line(1, 700.0, 50.0, 10.0, "Refunds reach your card in five"),
        line(1, 688.0, 50.0, 10.0, "working days."),
        line(1, 676.0, 50.0, 10.0, "Store credit never"),
        // Back up the page: the second column.
        line(1, 700.0, 300.0, 10.0, "expires."),
        line(1, 670.0, 300.0, 10.0, "Gift cards are not refunded."),
    ];
    assert_eq!(
        Layout::of(lines).markdown(),
        "Refunds reach your card in five working days. Store credit never expires.\n\n\
         Gift cards are not refunded."
    );
}

#[test]
fn large_print_sentences_are_text_and_a_heading_on_two_lines_is_one() {
    let lines = vec![
        line(1, 760.0, 50.0, 16.0, "Shipping to the islands"),
        line(1, 742.0, 50.0, 16.0, "and overseas territories"),
        line(
            1,
            720.0,
            50.0,
            10.0,
            "We ship to every island of the North Sea.",
        ),
        line(1, 690.0, 50.0, 16.0, "Orders placed today ship tomorrow."),
        line(
            1,
            670.0,
            50.0,
            10.0,
            "Express costs extra, and it is worth every cent",
        ),
        line(1, 658.0, 50.0, 10.0, "when a birthday is tomorrow."),
    ];
    assert_eq!(
        Layout::of(lines).markdown(),
        "# Shipping to the islands and overseas territories\n\n\
         We ship to every island of the North Sea.\n\n\
         Orders placed today ship tomorrow.\n\n\
         Express costs extra, and it is worth every cent when a birthday is tomorrow."
    );
}

#[test]
fn characters_become_lines_and_words_and_text_at_an_angle_is_left_out() {
    let mut reader = Lines::default();
    let media = MediaBox {
        llx: 0.0,
        lly: 0.0,
        urx: 595.0,
        ury: 842.0,
    };
    reader.begin_page(1, &media, None).unwrap();
    // 10-point text, each glyph half an em wide; "S A L E" letter-spaced by 2 points.
    let at = |x: f64, y: f64| Transform::row_major(1.0, 0.0, 0.0, 1.0, x, y);
    let mut x = 50.0;
    for c in ["S", "A", "L", "E"] {
        reader
            .output_character(&at(x, 700.0), 0.5, 2.0, 10.0, c)
            .unwrap();
        x += 0.5 * 10.0 + 2.0;
    }
    // A word space: the next word starts past a gap.
    x += 3.0;
    for c in ["n", "o", "w"] {
        reader
            .output_character(&at(x, 700.0), 0.5, 0.0, 10.0, c)
            .unwrap();
        x += 5.0;
    }
    // A watermark across the page, at 45 degrees.
    let diagonal = Transform::row_major(0.7, 0.7, -0.7, 0.7, 200.0, 400.0);
    reader
        .output_character(&diagonal, 0.5, 0.0, 60.0, "D")
        .unwrap();
    reader
        .output_character(&at(50.0, 686.0), 0.5, 0.0, 10.0, "b")
        .unwrap();
    reader.end_page().unwrap();
    let texts: Vec<&str> = reader.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, ["SALE now", "b"]);
}
