# suites.awk - makes a test file's CUnit suites from its comments.
#
#   awk -v src=tests/test_x.c -f tests/suites.awk tests/test_x.c > gen.c
#
# In the test file:
#   /* suite: NAME */          the tests below belong to suite NAME; after
#                              NAME, "; forked" (every test's body runs in
#                              a forked child), "; long" (every test is
#                              long: below), "; after each test: FN"
#                              (FN tears down whatever a test left) and
#                              "; at the end: FN" (FN cleans up the suite)
#   /* test: WHAT */           on the line just above `static void FN(void)`
#                              (its body may follow on that line) or
#                              `CHILD_TEST(FN...)` (tests/harness.h): FN is
#                              the test WHAT of the current suite
#   /* forked test: WHAT */    the same, its body run in a forked child
#   /* long test: WHAT */      the same, a long test: one that drives a
#                              whole tool (the TSan build, the grader...)
#                              or loads the machine on purpose. `make test`
#                              (test_runner --quick) leaves those to `make
#                              test-all` and `make check`. "long forked
#                              test:" is both.
# A suite may be named again further down (its name alone) to add more
# tests to it; its tests run in the order they stand in the file.
#
# The output includes the test file and adds, for each suite, its table and
# `void suite_NAME(void)` (dashes become underscores), which tests/main.c
# lists. So a test is written once, where its body is, and nothing else
# has to name it.

function fail(msg) {
    printf "%s:%d: %s\n", src, FNR, msg > "/dev/stderr"
    failed = 1
    exit 1
}

# s as a C string literal.
function cstr(s) {
    gsub(/\\/, "\\\\", s)
    gsub(/"/, "\\\"", s)
    return "\"" s "\""
}

# The text between "/* " + lead and " */" of the current line.
function inner(lead) {
    return substr($0, 4 + length(lead), length($0) - 6 - length(lead))
}

# A "suite:" comment: its name, then options after "; ".
function suite(text,    part, n, i, name) {
    n = split(text, part, /; /)
    name = part[1]
    if (name !~ /^[a-z0-9-]+$/)
        fail("a suite's name is lower-case letters, digits and dashes")
    cur = name
    if (name in seen) {
        if (n > 1)
            fail("suite " name "'s options belong where it is first named")
        return
    }
    seen[name] = 1
    order[++nsuites] = name
    for (i = 2; i <= n; i++) {
        if (part[i] == "forked")
            forked[name] = 1
        else if (part[i] == "long")
            along[name] = 1
        else if (part[i] ~ /^after each test: [A-Za-z_][A-Za-z0-9_]*$/)
            after_each[name] = substr(part[i], 18)
        else if (part[i] ~ /^at the end: [A-Za-z_][A-Za-z0-9_]*$/)
            at_end[name] = substr(part[i], 13)
        else
            fail("unknown suite option \"" part[i] "\"")
    }
}

BEGIN { nsuites = 0; cur = ""; want = "" }

want != "" {
    if (match($0, /^static void [A-Za-z_][A-Za-z0-9_]*\(void\)/))
        fn = substr($0, 13, RLENGTH - 18)
    else if (match($0, /^CHILD_TEST(_LIMIT)?\([A-Za-z_][A-Za-z0-9_]*/))
        fn = substr($0, index($0, "(") + 1, RLENGTH - index($0, "("))
    else
        fail("a \"test:\" comment must stand just above \"static void " \
             "FN(void)\" or \"CHILD_TEST(FN...\"")
    n = ++ntests[cur]
    tname[cur, n] = want
    tfn[cur, n] = fn
    tforked[cur, n] = want_forked
    tlong[cur, n] = want_long
    want = ""
    next
}

/^\/\* suite: .* \*\/$/ { suite(inner("suite: ")); next }

/^\/\* (long )?(forked )?test: .* \*\/$/ {
    if (cur == "")
        fail("a \"test:\" comment before any \"suite:\" comment")
    want_long = ($2 == "long")
    want_forked = ($2 == "forked" || (want_long && $3 == "forked"))
    want = inner((want_long ? "long " : "") \
                 (want_forked ? "forked test: " : "test: "))
    next
}

END {
    if (failed)
        exit 1
    if (want != "")
        fail("a \"test:\" comment at the end of the file")
    printf "/* Made from %s by tests/suites.awk: edit that file. */\n", src
    printf "#include \"../../../%s\"\n", src
    for (i = 1; i <= nsuites; i++) {
        s = order[i]
        id = s
        gsub(/-/, "_", id)
        printf "\nstatic const suite_test_t %s_tests[] = {\n", id
        for (k = 1; k <= ntests[s]; k++)
            printf "    { %s, %s, %d, %d },\n", cstr(tname[s, k]), tfn[s, k],
                   tforked[s, k], tlong[s, k] || (s in along)
        printf "    { NULL, NULL, 0, 0 },\n};\n\n"
        printf "void suite_%s(void)\n{\n", id
        printf "    CU_pSuite s = CU_add_suite_with_setup_and_teardown(\n"
        printf "        %s, NULL, %s, NULL, %s);\n", cstr(s),
               s in at_end ? at_end[s] : "NULL",
               s in after_each ? after_each[s] : "NULL"
        printf "    add_tests(s, %s_tests, %d);\n}\n", id, s in forked
    }
}
