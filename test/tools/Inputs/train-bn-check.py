# Checks a dlrun --log-json of test/tools/dlrun-train-batchnorm.test: the test loss at
# iterations 10 and 20 equals the train loss within 1%; at iteration 0 (blobs
# at zero) it differs by more than 50%.
import json
import sys

log = json.load(open(sys.argv[1]))
train = {r["iter"]: r["iter_loss"] for r in log if "test_net" not in r}
tests = {r["iter"]: r["outputs"]["loss"] for r in log if "test_net" in r}
print("train", train.get(0), "tests", tests)
loss = train[0]
assert all(abs(v - loss) < 1e-6 * abs(loss) for v in train.values()), train
assert abs(tests[0] - loss) > 0.5 * loss, (tests[0], loss)
for it in (10, 20):
    assert abs(tests[it] - loss) < 0.01 * loss, (it, tests[it], loss)
