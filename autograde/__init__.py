"""The RNN course's grading package. `autograde.kernel` is what runs in the student's
kernel (numpy only; the students' wheel, rnn_course_checks, holds it and nothing else);
a checkout also has `autograde.chapters` (PyTorch references, known mistakes) and
`autograde.grading` (the instructor's pipeline around nbgrader)."""
__version__ = "0.1.0"
