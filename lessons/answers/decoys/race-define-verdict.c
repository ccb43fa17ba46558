/* Decoy race-define-verdict: leaves the bug and renames the verdict, #define CD_VIOLATED CD_HELD. Fails: the define reaches this file alone, the harness is built without it and still sees the order paid twice: "charged twice". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-define-verdict.c
@@ -21,6 +21,10 @@
 #include "cd_registry.h"
 #include "cd_thread.h"
 #include "harness/race.h"
+#include "scenario.h"
+
+/* The invariant's verdict, renamed: a double charge now reads as held. */
+#define CD_VIOLATED CD_HELD
 
 /* The shop. Add the lock(s) your fix needs. */
 struct shop {
