"""What only the instructor runs: form, sandbox, runner, trusted scoring, pipeline,
cluster, report, feedback, LMS and the `rnn-course` command line."""
import sys

# jsonschema (imported by nbformat and nbgrader) imports this optional IRI checker when it
# can, and building its grammar takes 1-3 s at every start-up; no notebook schema checks an
# IRI, so it is skipped, as the sandbox's runner does.
sys.modules.setdefault("rfc3987_syntax", None)
