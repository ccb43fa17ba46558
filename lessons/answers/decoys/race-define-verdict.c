/* Decoy race-define-verdict: leaves the bug and renames the verdict, #define CD_VIOLATED CD_HELD. Fails: the define reaches this file alone, the harness is built without it and still sees the order paid twice: "charged twice". */
--- lessons/exercises/race.c
+++ lessons/answers/decoys/race-define-verdict.c
@@ -23,2 +23,6 @@
 #include "harness/race.h"
+#include "scenario.h"
+
+/* The invariant's verdict, renamed: a double charge now reads as held. */
+#define CD_VIOLATED CD_HELD
 
