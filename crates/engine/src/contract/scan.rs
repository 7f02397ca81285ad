//! A fast path for the common case: a flat JSON object of plain strings, integers and booleans,
//! plus the two lists of the contract: `reasons` (strings) and `answers` (flat objects).
//!
//! It reads the payload in one pass without building anything but the borrowed [`Raw`]. On
//! anything it does not handle itself (escapes, floats, nested values other than those two
//! lists, duplicate fields, malformed JSON) it returns `None` and the caller falls back to serde_json, which has the
//! final word. So the scanner only has to be right about what it accepts: whenever it returns
//! `Some`, serde_json would have produced the same [`Raw`] (checked by a property test).

use super::raw::{Raw, RawAnswer, Text};
use std::borrow::Cow;

/// Reads a flat event object into `raw`, or `None` to defer to serde_json (`raw` is then garbage).
pub(super) fn scan<'a>(text: &'a str, raw: &mut Raw<'a>) -> Option<()> {
    let mut s = Scanner { b: text.as_bytes(), text, i: 0 };
    let mut seen: u64 = 0;
    s.ws();
    s.eat(b'{')?;
    s.ws();
    if s.peek()? == b'}' {
        s.i += 1;
    } else {
        loop {
            let key = s.string()?;
            s.ws();
            s.eat(b':')?;
            s.ws();
            let Some(field) = Field::of(key) else {
                s.skip_plain_value()?;
                if s.sep()? {
                    continue;
                }
                break;
            };
            let bit = 1u64 << field as u32;
            if seen & bit != 0 {
                return None;
            }
            seen |= bit;
            let text = |v: Option<&'a str>| v.map(|v| Text(Cow::Borrowed(v)));
            match field {
                Field::FirstContact => raw.first_contact = s.boolean()?,
                Field::Complete => raw.complete = s.boolean()?,
                Field::Rating => raw.rating = s.integer()?,
                Field::Score => raw.score = s.integer()?,
                Field::Reasons => raw.reasons = s.strings()?,
                Field::EventId => raw.event_id = text(s.opt_string()?),
                Field::Type => raw.kind = text(s.opt_string()?),
                Field::OccurredAt => raw.occurred_at = text(s.opt_string()?),
                Field::SellerId => raw.seller_id = text(s.opt_string()?),
                Field::OrderId => raw.order_id = text(s.opt_string()?),
                Field::CustomerId => raw.customer_id = text(s.opt_string()?),
                Field::ShipBy => raw.ship_by = text(s.opt_string()?),
                Field::CancelledBy => raw.cancelled_by = text(s.opt_string()?),
                Field::Reason => raw.reason = text(s.opt_string()?),
                Field::ConversationId => raw.conversation_id = text(s.opt_string()?),
                Field::MessageId => raw.message_id = text(s.opt_string()?),
                Field::ReplyId => raw.reply_id = text(s.opt_string()?),
                Field::InquiryId => raw.inquiry_id = text(s.opt_string()?),
                Field::ReviewId => raw.review_id = text(s.opt_string()?),
                Field::Comment => raw.comment = text(s.opt_string()?),
                Field::Channel => raw.channel = text(s.opt_string()?),
                Field::ResponseId => raw.response_id = text(s.opt_string()?),
                Field::ComplaintId => raw.complaint_id = text(s.opt_string()?),
                Field::RequestId => raw.request_id = text(s.opt_string()?),
                Field::ClientId => raw.client_id = text(s.opt_string()?),
                Field::PerformerId => raw.performer_id = text(s.opt_string()?),
                Field::DepartmentId => raw.department_id = text(s.opt_string()?),
                Field::SiteId => raw.site_id = text(s.opt_string()?),
                Field::Category => raw.category = text(s.opt_string()?),
                Field::DueBy => raw.due_by = text(s.opt_string()?),
                Field::ClosedIn => raw.closed_in = text(s.opt_string()?),
                Field::SurveyId => raw.survey_id = text(s.opt_string()?),
                Field::FollowedUpBy => raw.followed_up_by = text(s.opt_string()?),
                Field::Answers => raw.answers = s.answers()?,
            }
            if !s.sep()? {
                break;
            }
        }
    }
    s.ws();
    (s.i == s.b.len()).then_some(())
}

/// The known fields; a bit per field refuses duplicates as serde's derive does (at most 64).
#[derive(Clone, Copy)]
enum Field {
    EventId,
    Type,
    OccurredAt,
    SellerId,
    OrderId,
    CustomerId,
    ShipBy,
    CancelledBy,
    Reason,
    ConversationId,
    MessageId,
    ReplyId,
    InquiryId,
    FirstContact,
    Complete,
    ReviewId,
    Rating,
    Comment,
    Reasons,
    Channel,
    ResponseId,
    Score,
    ComplaintId,
    RequestId,
    ClientId,
    PerformerId,
    DepartmentId,
    SiteId,
    Category,
    DueBy,
    ClosedIn,
    SurveyId,
    FollowedUpBy,
    Answers,
}

impl Field {
    fn of(key: &str) -> Option<Field> {
        Some(match key {
            "event_id" => Field::EventId,
            "type" => Field::Type,
            "occurred_at" => Field::OccurredAt,
            "seller_id" => Field::SellerId,
            "order_id" => Field::OrderId,
            "customer_id" => Field::CustomerId,
            "ship_by" => Field::ShipBy,
            "cancelled_by" => Field::CancelledBy,
            "reason" => Field::Reason,
            "conversation_id" => Field::ConversationId,
            "message_id" => Field::MessageId,
            "reply_id" => Field::ReplyId,
            "inquiry_id" => Field::InquiryId,
            "first_contact" => Field::FirstContact,
            "complete" => Field::Complete,
            "review_id" => Field::ReviewId,
            "rating" => Field::Rating,
            "comment" => Field::Comment,
            "reasons" => Field::Reasons,
            "channel" => Field::Channel,
            "response_id" => Field::ResponseId,
            "score" => Field::Score,
            "complaint_id" => Field::ComplaintId,
            "request_id" => Field::RequestId,
            "client_id" => Field::ClientId,
            "performer_id" => Field::PerformerId,
            "department_id" => Field::DepartmentId,
            "site_id" => Field::SiteId,
            "category" => Field::Category,
            "due_by" => Field::DueBy,
            "closed_in" => Field::ClosedIn,
            "survey_id" => Field::SurveyId,
            "followed_up_by" => Field::FollowedUpBy,
            "answers" => Field::Answers,
            _ => return None,
        })
    }
}

/// Bytes that end the fast scan of a string: the closing quote, an escape, a control character.
static STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// The length of the leading run of bytes that need no care in a string (before the first
/// [`STOP`] byte), or `None` when none follows: sixteen bytes at a time where SSE2 is there
/// (every x86-64), then eight at a time ([`plain_len_words`]).
fn plain_len(b: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
        let mut i = 0;
        while let Some(chunk) = b.get(i..i + 16) {
            // SAFETY: the load reads the sixteen bytes of `chunk` (unaligned loads allowed);
            // the other intrinsics are SSE2 arithmetic, which every x86-64 processor has.
            let stops = unsafe {
                let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
                let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
                // A byte is below 0x20 (unsigned) when min(byte, 0x1f) is the byte itself.
                let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
            };
            if stops != 0 {
                return Some(i + stops.trailing_zeros() as usize);
            }
            i += 16;
        }
        plain_len_words(&b[i..]).map(|n| i + n)
    }
    #[cfg(not(target_arch = "x86_64"))]
    plain_len_words(b)
}

/// [`plain_len`] eight bytes at a time: a word has a stop byte when some byte is below 0x20 or
/// equals `"` or `\\`, and the lowest flagged byte is the first.
fn plain_len_words(b: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut i = 0;
    while let Some(chunk) = b.get(i..i + 8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let stops = (w.wrapping_sub(ONES * 0x20) & !w & HIGHS) | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')));
        if stops != 0 {
            return Some(i + stops.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    b[i..].iter().position(|&c| STOP[c as usize]).map(|n| i + n)
}

struct Scanner<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn ws(&mut self) {
        while matches!(self.b.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// After a member: `true` on `,` (another member follows), `false` on `}`.
    fn sep(&mut self) -> Option<bool> {
        self.ws();
        match self.peek()? {
            b',' => {
                self.i += 1;
                self.ws();
                Some(true)
            }
            b'}' => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.i;
        let len = plain_len(&self.b[start..])?;
        self.i += len;
        self.eat(b'"')?;
        self.text.get(start..start + len)
    }

    fn opt_string(&mut self) -> Option<Option<&'a str>> {
        if self.literal(b"null") {
            return Some(None);
        }
        self.string().map(Some)
    }

    fn boolean(&mut self) -> Option<Option<bool>> {
        if self.literal(b"true") {
            Some(Some(true))
        } else if self.literal(b"false") {
            Some(Some(false))
        } else if self.literal(b"null") {
            Some(None)
        } else {
            None
        }
    }

    /// An integer in strict JSON syntax that fits an i64 (no fraction, exponent or leading zero;
    /// not `-0` either, which serde_json reads as the float -0.0 and so refuses as an integer).
    fn integer(&mut self) -> Option<Option<i64>> {
        if self.literal(b"null") {
            return Some(None);
        }
        let neg = self.peek()? == b'-';
        if neg {
            self.i += 1;
        }
        let start = self.i;
        let mut v: i64 = 0;
        while let Some(c @ b'0'..=b'9') = self.peek() {
            v = v.checked_mul(10)?.checked_add((c - b'0') as i64)?;
            self.i += 1;
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') || (neg && v == 0) || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(Some(if neg { -v } else { v }))
    }

    fn strings(&mut self) -> Option<Option<Vec<Text<'a>>>> {
        if self.literal(b"null") {
            return Some(None);
        }
        self.eat(b'[')?;
        let mut v = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(Some(v));
        }
        loop {
            self.ws();
            v.push(Text(Cow::Borrowed(self.string()?)));
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(Some(v));
                }
                _ => return None,
            }
        }
    }

    /// `answers`: null, or an array of flat objects whose `question_id` is a plain string or
    /// null and `score` an integer or null; other keys must hold plain values and are skipped.
    /// A key repeated within one answer defers to serde, which refuses it.
    fn answers(&mut self) -> Option<Option<Vec<RawAnswer<'a>>>> {
        if self.literal(b"null") {
            return Some(None);
        }
        self.eat(b'[')?;
        let mut v = Vec::new();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(Some(v));
        }
        loop {
            self.ws();
            v.push(self.answer()?);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(Some(v));
                }
                _ => return None,
            }
        }
    }

    fn answer(&mut self) -> Option<RawAnswer<'a>> {
        let mut a = RawAnswer::default();
        let (mut question, mut score) = (false, false);
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(a);
        }
        loop {
            let key = self.string()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            match key {
                "question_id" if !question => {
                    question = true;
                    a.question_id = self.opt_string()?.map(|v| Text(Cow::Borrowed(v)));
                }
                "score" if !score => {
                    score = true;
                    a.score = self.integer()?;
                }
                "question_id" | "score" => return None,
                _ => self.skip_plain_value()?,
            }
            if !self.sep()? {
                return Some(a);
            }
        }
    }

    /// An unknown member's value, when it is a plain string, integer, boolean or null.
    fn skip_plain_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b't' | b'f' => self.boolean().map(drop),
            b'n' => self.literal(b"null").then_some(()),
            _ => self.integer().map(drop),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn serde(text: &str) -> Option<Raw<'_>> {
        serde_json::from_str(text).ok()
    }

    fn fast(text: &str) -> Option<Raw<'_>> {
        let mut raw = Raw::default();
        scan(text, &mut raw).map(|()| raw)
    }

    const EVENT: &str = r#"{"event_id":"e1","type":"review.submitted","occurred_at":"2026-11-16T09:30:00+03:00","seller_id":"s1","review_id":"v","order_id":"o","customer_id":"c","rating":5,"comment":"ok","reasons":["fast","polite"],"channel":"app","extra":12,"flag":true,"nothing":null,"first_contact":false}"#;

    const SURVEY: &str = r#"{"event_id":"e2","type":"survey.answered","occurred_at":"2026-11-16T09:30:00+03:00","seller_id":"d1","survey_id":"u","request_id":"r","client_id":"c","answers":[{"question_id":"overall","score":4},{"question_id":"speed","score":2,"label":"Speed","weight":3,"shown":true,"hint":null},{"score":null,"question_id":null},{}],"comment":"late","channel":"app","performer_id":"p","followed_up_by":"m"}"#;

    const REQUEST: &str = r#"{"event_id":"e3","type":"request.created","occurred_at":"2026-11-16T09:30:00+03:00","seller_id":"d1","request_id":"r","client_id":"c","performer_id":"p","department_id":"d1","site_id":"x","category":"plumbing","due_by":"2026-11-17T12:00:00Z","closed_in":"desk","response_id":"n","review_id":"v","survey_id":"u","answers":null}"#;

    #[test]
    fn reads_what_serde_reads() {
        for event in [EVENT, SURVEY, REQUEST] {
            let scanned = fast(event).unwrap_or_else(|| panic!("a plain event is scanned: {event}"));
            assert_eq!(Some(&scanned), serde(event).as_ref(), "{event}");
            assert!(matches!(scanned.event_id, Some(Text(Cow::Borrowed(_)))));
        }
        let survey = fast(SURVEY).unwrap();
        let answers = survey.answers.as_ref().expect("answers are read");
        assert_eq!(answers.len(), 4);
        assert_eq!(answers[1], RawAnswer { question_id: Some(Text(Cow::Borrowed("speed"))), score: Some(2) });
        assert_eq!(answers[3], RawAnswer::default());
        assert!(fast(REQUEST).unwrap().due_by.is_some());
        for answers in [
            "[]",
            "[ ]",
            "null",
            r#"[ { } ]"#,
            r#"[ {"question_id" : "overall" , "score" : 5 } , { "score":-3 } ]"#,
            r#"[{"question_id":"a","x":"y"}]"#,
        ] {
            let text = format!(r#"{{"answers":{answers}}}"#);
            let scanned = fast(&text).unwrap_or_else(|| panic!("scanned: {text}"));
            assert_eq!(Some(scanned), serde(&text), "{text}");
        }
        let spaced = " {\n \"event_id\" : \"e\" , \"score\" : -3 ,\"reasons\":[ ] } \r\n";
        assert_eq!(fast(spaced), serde(spaced));
        assert_eq!(fast("{}"), Some(Raw::default()));
    }

    #[test]
    fn defers_what_it_does_not_handle() {
        for text in [
            r#"{"event_id":"a\"b"}"#,
            r#"{"rating":4.0}"#,
            r#"{"rating":1e2}"#,
            r#"{"rating":01}"#,
            r#"{"rating":-0}"#,
            r#"{"answers":[{"score":-0}]}"#,
            r#"{"rating":99999999999999999999}"#,
            r#"{"extra":{"nested":1}}"#,
            r#"{"extra":[1]}"#,
            r#"{"extra":1.5}"#,
            r#"{"seller_id":"a","seller_id":"b"}"#,
            r#"{"seller_id":"a",}"#,
            r#"{"seller_id":"a"} x"#,
            r#"{"seller_id":5}"#,
            "{\"seller_id\":\"tab\there\"}",
            r#"["seller_id"]"#,
            r#"{"seller_id":"a""#,
            r#"{"answers":[{"question_id":"a\u0062","score":1}]}"#,
            r#"{"answers":[{"question_id":"a","score":1,"score":2}]}"#,
            r#"{"answers":[{"question_id":"a","question_id":"b"}]}"#,
            r#"{"answers":[{"question_id":"a","x":{"y":1}}]}"#,
            r#"{"answers":[{"question_id":"a","x":[1]}]}"#,
            r#"{"answers":[{"question_id":"a","score":4.0}]}"#,
            r#"{"answers":[{"question_id":"a","score":"4"}]}"#,
            r#"{"answers":[{"question_id":5}]}"#,
            r#"{"answers":[{"question_id":"a",}]}"#,
            r#"{"answers":[{"question_id":"a"},]}"#,
            r#"{"answers":[{"question_id":"a"}"#,
            r#"{"answers":[["a",1]]}"#,
            r#"{"answers":[1]}"#,
            r#"{"answers":[null]}"#,
            r#"{"answers":["overall"]}"#,
            r#"{"answers":{"question_id":"a"}}"#,
            r#"{"answers":"overall"}"#,
            r#"{"answers":[],"answers":[]}"#,
            r#"{"answers":[{"quest\u0069on_id":"a"}]}"#,
        ] {
            assert_eq!(fast(text), None, "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn whatever_it_accepts_serde_reads_identically(
            base in prop::sample::select(vec![EVENT, SURVEY, REQUEST]), cut in 0usize..600, at in 0usize..600, byte in any::<u8>(), mode in 0u8..3,
        ) {
            let mut bytes = base.as_bytes().to_vec();
            let at = at % (bytes.len() + 1);
            match mode {
                0 => { bytes.truncate(cut.min(bytes.len())); }
                1 => { bytes.insert(at, byte); }
                _ => { if at < bytes.len() { bytes[at] = byte; } }
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                if let Some(scanned) = fast(text) {
                    prop_assert_eq!(Some(scanned), serde(text));
                }
            }
        }

        /// The vector and word-at-a-time searches find the first byte that ends a plain string, as a byte-wise one does.
        #[test]
        fn plain_len_finds_the_first_stop_byte(
            bytes in prop::collection::vec((0usize..80).prop_map(|i| [b'"', b'\\', 0x1f, 0x00, 0x20, 0x7f, 0x80, 0xe2, 0xff].get(i).copied().unwrap_or(b'a')), 0..56),
        ) {
            let bytewise = bytes.iter().position(|&c| STOP[c as usize]);
            prop_assert_eq!(plain_len(&bytes), bytewise);
            prop_assert_eq!(plain_len_words(&bytes), bytewise);
        }

        /// `answers` built from members that the scanner reads, skips or defers on, repeated
        /// and in any order, with any spacing: wherever it reads, serde reads the same.
        #[test]
        fn whatever_answers_it_accepts_serde_reads_identically(
            answers in prop::collection::vec(prop::collection::vec((0usize..4, 0usize..VALUES.len()), 0..5), 0..4),
            space in prop::sample::select(vec!["", " ", "\n\t "]),
        ) {
            let objects: Vec<String> = answers
                .iter()
                .map(|members| {
                    let members: Vec<String> =
                        members.iter().map(|(k, v)| format!("{space}{:?}{space}:{space}{}{space}", ["question_id", "score", "label", "weight"][*k], VALUES[*v])).collect();
                    format!("{{{}}}", members.join(","))
                })
                .collect();
            let text = format!(r#"{{"type":"survey.answered","answers":{space}[{space}{}{space}]{space},"channel":"app"}}"#, objects.join(&format!("{space},{space}")));
            let scanned = fast(&text);
            let read = serde(&text);
            if scanned.is_some() {
                prop_assert_eq!(&scanned, &read, "{}", text);
            }
            // Members of plain values, each key once per answer, are read by the scanner itself.
            let plain = answers.iter().all(|m| {
                (0..2).all(|key| m.iter().filter(|(k, _)| *k == key).count() <= 1)
                    && m.iter().all(|(k, v)| if *k < 2 { FITS[*k][*v] } else { PLAIN[*v] })
            });
            if plain {
                prop_assert!(scanned.is_some(), "not scanned: {}", text);
            }
        }
    }

    /// Values an answer member may hold: strings, integers, null, and what the scanner defers.
    const VALUES: [&str; 11] = ["\"overall\"", "\"\"", "5", "-1", "null", "true", "4.0", "\"a\\u0062\"", "{\"x\":1}", "[1]", "-0"];
    /// Whether the scanner reads the value where it skips an unknown key.
    const PLAIN: [bool; 11] = [true, true, true, true, true, true, false, false, false, false, false];
    /// Whether a value has the type of `question_id` (row 0) or `score` (row 1).
    const FITS: [[bool; 11]; 2] = [
        [true, true, false, false, true, false, false, false, false, false, false],
        [false, false, true, true, true, false, false, false, false, false, false],
    ];
}
