"""The attnlab Python module (python/module.cpp) against the attnlab executable (the same C++ and
seed must give the same bits) and against statsmodels (an independent VAR fit must recover the
generator's ground truth). Run by ctest (label unit) with PYTHONPATH=<build>/python and
ATTNLAB_EXE=<build>/attnlab."""
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import attnlab

EXE = os.environ["ATTNLAB_EXE"]


class ModuleEqualsCli(unittest.TestCase):
    def test_var_sample_is_synth_var_bit_for_bit(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "v.csv")
            subprocess.run([EXE, "synth", "var", "--dim", "3", "--order", "2", "--length", "400",
                            "--seed", "11", "--series", "2", "--coef-scale", "0.4", "--out", out],
                           check=True, capture_output=True)
            rows = np.loadtxt(out, delimiter=",", skiprows=1)  # series, t, x1..x3 (17 digits)
            with open(os.path.join(d, "v.json")) as fh:
                truth = json.load(fh)
        for i in range(2):
            s = attnlab.var_sample(3, 2, 400, 11, index=i, coef_scale=0.4)
            self.assertEqual(s["series"].shape, (400, 3))
            self.assertTrue(np.array_equal(s["series"], rows[rows[:, 0] == i][:, 2:]), i)
            proc = truth["processes"][i]
            for j in range(2):
                self.assertTrue(np.array_equal(s["A"][j], np.array(proc["A"][j])), (i, j))
            self.assertEqual(s["spectral_radius"], proc["spectral_radius"])

    def cli_csv(self, args):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "g.csv")
            subprocess.run([EXE, "synth"] + args + ["--out", out], check=True, capture_output=True)
            with open(os.path.join(d, "g.json")) as fh:
                return np.loadtxt(out, delimiter=",", skiprows=1, ndmin=2), json.load(fh)

    def test_ssm_sample_is_synth_ssm_bit_for_bit(self):
        for ood in (False, True):
            rows, truth = self.cli_csv(["ssm", "--variant", "B", "--dim", "5", "--gamma", "0.3",
                                        "--n", "300", "--seed", "4"] + (["--ood"] if ood else []))
            s = attnlab.ssm_sample(300, 4, variant="B", dim=5, gamma=0.3, ood=ood)
            self.assertTrue(np.array_equal(s["X"], rows[:, 1:6]), ood)
            self.assertTrue(np.array_equal(s["y"], rows[:, 6]), ood)
            self.assertTrue(np.array_equal(s["c"], np.array(truth["c"])))

    def test_regression_sample_is_synth_regression_bit_for_bit(self):
        rows, truth = self.cli_csv(["regression", "--dim", "3", "--n", "7", "--tasks", "5",
                                    "--sigma-set", "1,3", "--seed", "9"])
        s = attnlab.regression_sample(5, 9, dim=3, n=7, sigma_set=[1, 3])
        ctx = rows[:, 2] == 0  # context rows: (x, y) are the token columns
        self.assertTrue(np.array_equal(s["tokens"].T[ctx], rows[ctx][:, 3:]))
        self.assertTrue(np.array_equal(s["tokens"].T[~ctx][:, :3], rows[~ctx][:, 3:6]))
        self.assertTrue(np.array_equal(s["target"], rows[~ctx][:, -1]))
        self.assertTrue(np.array_equal(s["sigma"], [t["sigma"] for t in truth["task_truth"]]))
        self.assertTrue(np.array_equal(s["w"].T, [t["w"] for t in truth["task_truth"]]))

    def test_run_claim_is_attnlab_run(self):
        r = attnlab.run_claim("var.path_expansion", profile="smoke")
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([EXE, "run", "var.path_expansion", "--profile", "smoke", "--out", d],
                           check=True, capture_output=True)
            with open(os.path.join(d, "smoke", "var.path_expansion", "result.json")) as fh:
                cli = json.load(fh)
        self.assertEqual(r["verdict"], "holds")
        self.assertEqual(r["metrics"], cli["metrics"])
        self.assertEqual(r["config"], cli["config"])

    def test_claims_and_bad_input(self):
        ids = [c["id"] for c in attnlab.claims()]
        self.assertIn("icl.table1", ids)
        with self.assertRaises(attnlab.InputError):
            attnlab.var_sample(0, 2, 100, 1)  # dim 0
        with self.assertRaises(attnlab.InputError):
            attnlab.ssm_sample(10, 1, variant="A", gamma=0.5)
        with self.assertRaises(attnlab.InputError):
            attnlab.regression_sample(3, 1, sigma_max=1.0, sigma_set=[1.0])
        with self.assertRaises(ValueError):
            attnlab.run_claim("no.such_claim", profile="smoke")
        with self.assertRaises(ValueError):
            attnlab.run_claim("var.path_expansion", profile="smoke", overrides=["trials=0"])


class ClosedForms(unittest.TestCase):
    def test_ridge_predict_is_the_normal_equations(self):
        s = attnlab.regression_sample(1, 5, dim=4, n=12, sigma_max=1.0)
        z = s["tokens"]  # (5, 13): 12 context columns (x, y), then the query (x, 0)
        X, y, xq = z[:4, :12], z[4, :12], z[:4, 12]
        lambdas = [0.0, s["sigma"][0] ** 2, 3.0]
        got = attnlab.ridge_predict(X, y, xq, lambdas)
        for lam, g in zip(lambdas, got):
            w = np.linalg.solve(X @ X.T + lam * np.eye(4), X @ y)
            self.assertAlmostEqual(g, w @ xq, delta=1e-10 * max(1.0, abs(w @ xq)))
        with self.assertRaises(attnlab.InputError):
            attnlab.ridge_predict(X, y[:5], xq, [0.0])


class StatsmodelsRecoversTheGroundTruth(unittest.TestCase):
    def test_var_fit_on_synth_var_data(self):
        from statsmodels.tsa.api import VAR
        s = attnlab.var_sample(2, 2, 20000, 3, coef_scale=0.4)
        fit = VAR(s["series"]).fit(2, trend="n")  # coefs[j] multiplies x_{t-j-1}
        # Least-squares standard errors here are about noise_std / (sqrt(T) sd(x)) <= 1 / sqrt(20000)
        # = 0.007 (sd(x) >= noise_std = 1); 0.05 is over 7 of them. A generator whose data did not
        # follow its stated A (e.g. A transposed) misses by the size of A's entries, up to 0.4+.
        err = max(np.max(np.abs(fit.coefs[j] - s["A"][j])) for j in range(2))
        self.assertLess(err, 0.05)
        ours = attnlab.fit_var(s["series"], 2)  # the same estimator: equal up to round-off
        for j in range(2):
            np.testing.assert_allclose(ours["A"][j], fit.coefs[j], rtol=0, atol=1e-10)


if __name__ == "__main__":
    unittest.main()
