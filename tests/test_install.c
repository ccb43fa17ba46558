/*
 * test_install.c - concdemo as a package: the manual page made from the
 * binary, the bash completion, and `make install` / `make uninstall` with
 * an installed `concdemo check` that grades from another directory, with
 * no source tree in sight, and an installed `concdemo watch` that finds
 * its preloaded library; and the Debian package (make deb), installed
 * with dpkg into a temporary root of its own and removed again, as any
 * user (the real system's dpkg is make deb-system's, as root).
 *
 * The install test installs the plain build (make install's), so the
 * sanitizer runs of this suite leave it to the plain run: it tests
 * packaging, and the binary it installs is not theirs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../demos/scenario.h"
#include "harness.h"

/* suite: install; long */

#define LIMIT_MS 120000

static cmd_out_t out;

/* Runs the script that fmt and its arguments make, with sh -c; its output
 * goes to out. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
    static char script[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(script, sizeof script, fmt, ap);
    va_end(ap);
    CU_ASSERT_FATAL(n >= 0 && (size_t)n < sizeof script);
    const char *argv[] = { "sh", "-c", script, NULL };
    run_cmd(&out, argv, NULL, LIMIT_MS);
}

/* =============================== the manual ============================== */

/* test: the manual names every scenario, fix and option */
static void test_the_manual_names_every_scenario_fix_and_option(void)
{
    sh("sh scripts/mkman.sh %s", concdemo_bin());
    ASSERT_INT_EQ(out.exit_code, 0);
    static const char *const sections[] = {
        ".SH NAME", ".SH SYNOPSIS", ".SH SCENARIOS", ".SH OPTIONS",
        ".SH EXIT STATUS", ".SH EXAMPLES", ".SH FILES", ".SH SEE ALSO",
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        ASSERT_STR_HAS(out.out, sections[i]);
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    for (int i = 0; i < n; i++) {
        char want[128];
        snprintf(want, sizeof want, ".B %s\n", all[i]->name);
        /* roff escapes the hyphens of a name. */
        char *p = want;
        char esc[160], *q = esc;
        for (; *p; p++) {
            if (*p == '-')
                *q++ = '\\';
            *q++ = *p;
        }
        *q = '\0';
        ASSERT_STR_HAS(out.out, esc);
    }
    ASSERT_STR_HAS(out.out, "\\-\\-latency\\-scale F");
    ASSERT_STR_HAS(out.out, "\\-\\-fixed=keyed (recommended)");
}

/* Fails the test for each option help names (--word, -h: a word that
 * starts after a blank or a bracket) that man lacks as roff writes it.
 * Returns how many it found. */
static int expect_options_in(const char *man, const char *help)
{
    int options = 0;
    for (const char *p = help; (p = strchr(p, '-')) != NULL; p++) {
        if (p > help && !strchr(" [", p[-1]))
            continue;
        size_t dashes = p[1] == '-' ? 2 : 1, n = dashes;
        while (p[n] && strchr("abcdefghijklmnopqrstuvwxyz0123456789-", p[n]))
            n++;
        if (n == dashes || (dashes == 1 && n != 2))
            continue; /* a lone dash, or a word like "-3" */
        char want[96], *q = want;
        for (size_t i = 0; i < n && q < want + sizeof want - 3; i++) {
            if (p[i] == '-')
                *q++ = '\\';
            *q++ = p[i];
        }
        *q = '\0';
        ASSERT_STR_HAS(man, want);
        options++;
    }
    return options;
}

/* Every option `concdemo --help` and each command's --help name is in the
 * manual, and its title carries `concdemo --version`'s. */
/* test: the manual has every option of --help and the version */
static void test_the_manual_has_every_option_of_help_and_the_version(void)
{
    static char man[sizeof out.out];
    char th[160];
    sh("sh scripts/mkman.sh %s", concdemo_bin());
    ASSERT_INT_EQ(out.exit_code, 0);
    snprintf(man, sizeof man, "%s", out.out);

    sh("%s --version", concdemo_bin());
    ASSERT_INT_EQ(out.exit_code, 0);
    snprintf(th, sizeof th, "\"%.*s\" \"User Commands\"",
             (int)strcspn(out.out, "\n"), out.out);
    ASSERT_STR_HAS(man, th);

    static const char *const helps[] = { "--help", "explore --help",
                                         "check --help", "bench --help",
                                         "watch --help" };
    for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
        sh("%s %s", concdemo_bin(), helps[i]);
        ASSERT_INT_EQ(out.exit_code, 0);
        CU_ASSERT_TRUE(expect_options_in(man, out.out) >= 3);
    }
}

/* test: the manual renders without warnings */
static void test_the_manual_renders_without_warnings(void)
{
    sh("command -v groff >/dev/null || { echo no-groff; exit 0; }; "
       "sh scripts/mkman.sh %s | groff -man -Tutf8 -ww -z 2>&1",
       concdemo_bin());
    ASSERT_INT_EQ(out.exit_code, 0);
    if (strstr(out.out, "no-groff"))
        fprintf(stderr, "\n  SKIPPED: groff is not installed, so the "
                "manual was not rendered\n");
    else
        ASSERT_INT_EQ((long long)strlen(out.out), 0);
}

/* ============================== completion =============================== */

/* What the completion offers for the words (the binary first). */
static void complete(const char *words)
{
    sh("command -v bash >/dev/null || { echo no-bash; exit 0; }; "
       "exec bash -c '. scripts/concdemo.bash; "
       "COMP_WORDS=(%s %s); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
       "_concdemo; echo \"${COMPREPLY[*]}\"'", concdemo_bin(), words);
    ASSERT_INT_EQ(out.exit_code, 0);
}

/* test: completion offers scenarios, their fixes and flags */
static void test_completion_offers_scenarios_their_fixes_and_flags(void)
{
    int n;
    const cd_scenario_t *const *all = cd_scenarios(&n);
    complete("\"\"");
    if (strstr(out.out, "no-bash")) {
        fprintf(stderr, "\n  SKIPPED: bash is not installed\n");
        return;
    }
    for (int i = 0; i < n; i++)
        ASSERT_STR_HAS(out.out, all[i]->name);
    ASSERT_STR_HAS(out.out, "explore");
    for (int i = 0; i < n; i++) {
        char words[96];
        snprintf(words, sizeof words, "%s --fixed=", all[i]->name);
        complete(words);
        for (int v = 1; v < all[i]->nvariants; v++) {
            char want[96];
            snprintf(want, sizeof want, "--fixed=%s",
                     all[i]->variants[v].name);
            ASSERT_STR_HAS(out.out, want);
        }
        CU_ASSERT_PTR_NULL(strstr(out.out, "--fixed=broken"));
    }
    complete("explore race --str");
    ASSERT_STR_HAS(out.out, "--strategy");
    complete("race --lat");
    ASSERT_STR_HAS(out.out, "--latency-scale");
    complete("bench \"\"");
    ASSERT_STR_HAS(out.out, "fanin");
}

/* ========================= install, check, uninstall ===================== */

static int plain_build(void)
{
    if (strcmp(concdemo_bin(), "build/concdemo") == 0)
        return 1;
    fprintf(stderr, "\n  SKIPPED: make install installs the plain build; "
            "the plain run of this suite tests it\n");
    return 0;
}

/* A command's prefix: it runs under the locks concdemo check builds
 * under, since a check suite running beside this one may be making the
 * same library archives. */
#define UNDER_BUILD_LOCKS                                                    \
    "mkdir -p build/exercises build/tsan/exercises && "                      \
    "flock build/exercises/.lock flock build/tsan/exercises/.lock "

/* test: an installed check grades from anywhere, and uninstalls */
static void test_an_installed_check_grades_from_anywhere_and_uninstalls(void)
{
    if (!plain_build())
        return;
    char tmp[] = "/tmp/concdemo-install-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
    char cwd[1024];
    CU_ASSERT_FATAL(getcwd(cwd, sizeof cwd) != NULL);

    sh(UNDER_BUILD_LOCKS "make -s install DESTDIR=%s PREFIX=/usr", tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    /* The answer passes and the starter fails, graded from an empty
     * directory by the installed binary alone (no CONCDEMO_ROOT, no
     * source tree above it), building in the learner's cache. */
    sh("cd %s && mkdir home && unset CONCDEMO_ROOT && HOME=%s/home "
       "XDG_CACHE_HOME= %s/usr/bin/concdemo check race --file "
       "%s/lessons/answers/race.patch", tmp, tmp, tmp, cwd);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "PASS race: every stage passed");
    sh("cd %s && unset CONCDEMO_ROOT && HOME=%s/home XDG_CACHE_HOME= "
       "%s/usr/bin/concdemo check race", tmp, tmp, tmp);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "lessons/exercises/race.c");
    /* It built in the cache, and left the installed tree as it was. */
    sh("ls -d %s/home/.cache/concdemo/tree-*/build/exercises && "
       "! ls %s/usr/share/concdemo/build/exercises 2>/dev/null",
       tmp, tmp);
    ASSERT_INT_EQ(out.exit_code, 0);

    /* Lesson 23 comes with its programs, and the installed watch finds
     * its preloaded library: the lesson's fixed program, built from the
     * installed tree, is watched to its end. */
    sh("cd %s && test -f usr/share/concdemo/lessons/23-watch.md && "
       "test -f usr/share/concdemo/lessons/watch/handoff.c && "
       "cc -g -pthread -o handoff-fixed "
       "usr/share/concdemo/lessons/watch/handoff_fixed.c && "
       "usr/bin/concdemo watch -- ./handoff-fixed", tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "./handoff-fixed exited with 0");

    sh("test -f %s/usr/share/man/man1/concdemo.1.gz && "
       "test -f %s/usr/share/bash-completion/completions/concdemo && "
       "make -s uninstall DESTDIR=%s PREFIX=/usr && "
       "test -z \"$(find %s/usr 2>/dev/null)\"", tmp, tmp, tmp, tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    sh("rm -rf %s", tmp);
}

/* make deb installs into a DESTDIR under build/ (relative): the same
 * files as into an absolute one, all listed, and all removed again. */
/* test: a relative DESTDIR installs and uninstalls the same */
static void test_a_relative_destdir_installs_and_uninstalls_the_same(void)
{
    if (!plain_build())
        return;
    char rel[] = "build/concdemo-destdir-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(rel) != NULL);
    sh(UNDER_BUILD_LOCKS
       "make -s install DESTDIR=%s PREFIX=/usr >/dev/null && "
       "test \"$(grep -c '^f' %s/usr/share/concdemo/.installed)\" = "
       "\"$(find %s -type f | wc -l)\" && "
       "test -f %s/usr/share/concdemo/build/libconcdemo.a && "
       "make -s uninstall DESTDIR=%s PREFIX=/usr >/dev/null && "
       "test -z \"$(find %s/usr 2>/dev/null)\"", rel, rel, rel, rel, rel,
       rel);
    if (out.exit_code != 0)
        fprintf(stderr, "\n  %s\n", out.err);
    ASSERT_INT_EQ(out.exit_code, 0);
    sh("rm -rf %s", rel);
}

/* ============================ the Debian package ========================= */

/* dpkg on the temporary root r alone: its own database, its own log, and
 * the dependencies left to the real system (the temporary database knows
 * no other package). --force-not-root: any user may run the suite. */
#define DPKG_IN(r)                                                           \
    "PATH=$PATH:/usr/sbin:/sbin dpkg --force-not-root --root=" r            \
    " --log=" r "/../dpkg.log"

/* Builds the package into tmp/deb, and checks that it holds what make
 * install PREFIX=/usr installs (into tmp/inst), Debian's copyright and
 * changelog beside, nothing else, and concdemo's version. 0 if it built.
 * Uncompressed (scripts/mkdeb.sh: MKDEB_COMPRESS): compressing it was
 * 7 s of CPU, and make deb-system builds the real one. */
static int build_the_package(const char *tmp)
{
    sh("command -v dpkg-deb >/dev/null && command -v dpkg-gencontrol "
       ">/dev/null || { echo no-dpkg; exit 0; }; "
       UNDER_BUILD_LOCKS
       "sh -c 'MKDEB_COMPRESS=none make -s deb DEB_DIR=%s/deb >/dev/null && "
       "make -s install DESTDIR=%s/inst PREFIX=/usr >/dev/null'",
       tmp, tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    if (strstr(out.out, "no-dpkg")) {
        fprintf(stderr, "\n  SKIPPED: dpkg-dev is not installed, so no "
                "package was built (make deps installs it)\n");
        return -1;
    }
    if (out.exit_code != 0)
        return -1;
    /* Lists of files (directories follow from them), ./usr/... */
    sh("cd %s && set -e; deb=$(ls deb/concdemo_*.deb); "
       "dpkg-deb -c $deb | awk '$1 !~ /^d/ {print $6}' | sort > deb.list; "
       "(cd inst && find . ! -type d; "
       " echo ./usr/share/doc/concdemo/copyright; "
       " echo ./usr/share/doc/concdemo/changelog.Debian.gz) "
       "| sort > inst.list; "
       "diff inst.list deb.list; wc -l < deb.list; du -k $deb; "
       "test \"$(dpkg-deb -f $deb Version)\" = "
       "\"$(inst/usr/bin/concdemo --version | cut -d' ' -f2)\"", tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    CU_ASSERT_PTR_NULL(strstr(out.out, "<"));
    CU_ASSERT_PTR_NULL(strstr(out.out, ">"));
    return out.exit_code == 0 ? 0 : -1;
}

/* concdemo from the temporary root r, in the empty directory tmp/work,
 * with tmp/home for a home (check builds in its cache) and no source tree
 * in reach. */
#define AS_LEARNER(tmp)                                                      \
    "cd " tmp "/work && unset CONCDEMO_ROOT && HOME=" tmp "/home "         \
    "XDG_CACHE_HOME= " tmp "/root/usr/bin/concdemo"

/* test: the Debian package installs, works and removes cleanly */
static void test_the_debian_package_installs_works_and_removes_cleanly(void)
{
    if (!plain_build())
        return;
    char tmp[] = "/tmp/concdemo-deb-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
    if (build_the_package(tmp) != 0)
        goto out;

    /* dpkg -i into tmp/root, whose database is empty. */
    sh("cd %s && mkdir -p work home root/var/lib/dpkg/info "
       "root/var/lib/dpkg/updates && : > root/var/lib/dpkg/status && "
       DPKG_IN("$PWD/root") " --force-depends -i deb/concdemo_*.deb "
       ">/dev/null 2>dpkg.err || { cat dpkg.err; exit 1; }; "
       "dpkg-query --admindir=root/var/lib/dpkg -W "
       "-f='${db:Status-Abbrev}' concdemo", tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "ii");
    if (out.exit_code != 0)
        goto out;

    /* A run, the starter (fails with the race's verdict), and a copy of
     * the answer (passes), from the installed files. */
    sh("T=%s; " AS_LEARNER("$T") " race --fixed",
       tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "race [keyed]: HELD");
    sh("T=%s; " AS_LEARNER("$T") " check race", tmp);
    ASSERT_INT_EQ(out.exit_code, 1);
    ASSERT_STR_HAS(out.out, "tsan      FAIL  ThreadSanitizer: data race");
    ASSERT_STR_HAS(out.out, "FAIL race: failed: free explore tsan");
    sh("T=%s; " AS_LEARNER("$T") " check race --file "
       "$T/root/usr/share/concdemo/lessons/answers/race.patch "
       "--print-full > $T/work/copy.c && "
       AS_LEARNER("$T") " check race --file copy.c", tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    ASSERT_STR_HAS(out.out, "PASS race: every stage passed");

    /* dpkg -r: the root holds nothing but dpkg's own database, which
     * knows the package no more. */
    sh("cd %s && " DPKG_IN("$PWD/root") " -r concdemo >/dev/null "
       "2>dpkg.err || { cat dpkg.err; exit 1; }; "
       "find root -path root/var/lib/dpkg -prune -o -print | "
       "grep -v -x -e root -e root/var -e root/var/lib; "
       "dpkg-query --admindir=root/var/lib/dpkg -W "
       "-f='${db:Status-Abbrev}' concdemo 2>/dev/null; echo end", tmp);
    ASSERT_INT_EQ(out.exit_code, 0);
    /* Only dpkg-query's "un" (or nothing) before the end. */
    CU_ASSERT_TRUE(strcmp(out.out, "end\n") == 0 ||
                   strncmp(out.out, "un ", 3) == 0);
    if (!(strcmp(out.out, "end\n") == 0 || strncmp(out.out, "un ", 3) == 0))
        fprintf(stderr, "\n  left after dpkg -r: %.600s\n", out.out);
out:
    sh("rm -rf %s", tmp);
}
