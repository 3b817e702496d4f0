"""Bad input is refused loudly, everywhere: the error type, the parameter, what is allowed.

The plugin is test infrastructure: an invalid call it accepted would make a user's test
pass for the wrong reason. Each module holds the bad-input table of one surface (the
factory, the batch model, payloads, `add_batch`, faults and limits, keys and origins,
the assertions, the set-up methods, HTTP requests, pytest's configuration); every case
is one invalid call, run by the one `refused()` of `cases.py`, which asserts the exact
exception type and a short message naming the parameter and what it allows. Hostile
values (deep nesting, huge strings and numbers, None where a field is required) sit in
the table of the surface they are thrown at.
"""
