//! The Kinesis Data Analytics SQL front-end (`spate_analytics::parse_application_code`), which
//! reads the application code API callers send. No input may panic or overflow the stack, and
//! every statement that parses must print as SQL that parses to the same printed text, except
//! that printing may add the parentheses precedence needs (`a + (NOT b)`), which can take text
//! just under the nesting limit over it: that one refusal is allowed on the second reading.

#![no_main]

use libfuzzer_sys::fuzz_target;
use spate_analytics::parse_application_code;

fuzz_target!(|data: &[u8]| {
    let code = String::from_utf8_lossy(data);
    let Ok(statements) = parse_application_code(&code) else {
        return;
    };
    for statement in statements {
        let printed = statement.to_string();
        let again = match parse_application_code(&printed) {
            Ok(again) => again,
            Err(error) if error.to_string().contains("nested too deeply") => continue,
            Err(error) => panic!("{error}\nreparsing: {printed}"),
        };
        assert_eq!(again.len(), 1, "one statement in {printed}");
        assert_eq!(again[0].to_string(), printed, "printing is stable");
    }
});
