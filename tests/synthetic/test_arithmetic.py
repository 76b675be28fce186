import pytest

from helm_plugins.synthetic.arithmetic import generate_arithmetic_problems, is_held_out, worked_solution


def test_worked_solution_with_carry():
    assert worked_solution(47, 38, "+") == (
        "47 + 38. Ones: 7 + 8 = 15, write 5 carry 1. Tens: 4 + 3 + 1 = 8. So 47 + 38 = 85. The answer is 85."
    )


def test_worked_solution_with_borrow_and_three_digit_sum():
    assert worked_solution(80, 73, "-").endswith("Tens: 8 - 1 - 7 = 0. So 80 - 73 = 7. The answer is 7.")
    assert "Tens: 6 + 5 + 1 = 12. So 67 + 58 = 125." in worked_solution(67, 58, "+")


def test_every_worked_solution_ends_with_the_true_result():
    for a in range(100):
        for b in range(100):
            assert worked_solution(a, b, "+").endswith(f"The answer is {a + b}.")
            if a >= b:
                assert worked_solution(a, b, "-").endswith(f"The answer is {a - b}.")


def test_bad_operations_are_rejected():
    with pytest.raises(ValueError, match="a >= b"):
        worked_solution(3, 9, "-")
    with pytest.raises(ValueError, match="unknown operation"):
        worked_solution(3, 9, "*")


def test_splits_use_disjoint_operand_pairs():
    train = generate_arithmetic_problems(3000, seed=1, split="train")
    test = generate_arithmetic_problems(500, seed=1, split="test")
    train_pairs = {(p.a, p.b, p.op) for p in train}
    test_pairs = {(p.a, p.b, p.op) for p in test}
    assert not train_pairs & test_pairs
    assert all(is_held_out(*pair) for pair in test_pairs)
    assert 0.1 < sum(is_held_out(a, b, op) for a in range(100) for b in range(100) for op in "+-") / 20000 < 0.3


def test_same_seed_same_problems_other_seed_other_problems():
    assert generate_arithmetic_problems(50, 7, "test") == generate_arithmetic_problems(50, 7, "test")
    assert generate_arithmetic_problems(50, 7, "test") != generate_arithmetic_problems(50, 8, "test")


def test_answers_match_the_question_numbers():
    for problem in generate_arithmetic_problems(200, 3, "train"):
        assert f" {problem.a} " in f" {problem.question} " and str(problem.b) in problem.question
        assert problem.answer == (problem.a + problem.b if problem.op == "+" else problem.a - problem.b)
        assert problem.answer >= 0
