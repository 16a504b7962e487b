"""The RNN course's grading package: PyTorch references, the checks that exercise
test cells call, and the instructor's pipeline around nbgrader."""
__version__ = "0.1.0"
