# Reference values for analysis/engine, computed by R's metafor.
#
# Run from anywhere:  Rscript tests/analysis/engine/reference/make_reference.R [out.json]
# Default output: metafor_reference.json next to this script. The JSON is the
# only source of metafor numbers in the tests; nothing is typed by hand.
# Needs: r-base-core, r-cran-metafor (3.8-1 on Debian bookworm), r-cran-jsonlite.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f)) dirname(normalizePath(f)) else getwd()
})
out_file <- if (length(args) >= 1) args[1] else file.path(script_dir, "metafor_reference.json")

methods <- c("FE", "DL", "REML", "ML", "PM", "HE", "HS", "SJ", "EB")
tests <- c("z", "knha")

num <- function(x) if (is.null(x)) NA_real_ else unname(as.numeric(x))

fit_summary <- function(res) {
  pr <- predict(res)
  out <- list(
    k = res$k, p = res$p, names = rownames(res$beta),
    beta = num(res$beta), se = num(res$se), zval = num(res$zval), pval = num(res$pval),
    ci_lb = num(res$ci.lb), ci_ub = num(res$ci.ub), vb = unname(res$vb),
    ddf = num(res$ddf), tau2 = num(res$tau2), se_tau2 = num(res$se.tau2),
    I2 = num(res$I2), H2 = num(res$H2), QE = num(res$QE), QEp = num(res$QEp),
    QM = num(res$QM), QMp = num(res$QMp), QMdf = num(res$QMdf), R2 = num(res$R2),
    vt = num(res$vt), s2w = num(res$s2w), weights = num(weights(res)),
    pred = num(pr$pred), pred_se = num(pr$se), pred_ci_lb = num(pr$ci.lb),
    pred_ci_ub = num(pr$ci.ub), pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub)
  )
  if (res$int.only) {
    prr <- predict(res, pi.type = "riley")
    out$pi_riley_lb <- num(prr$pi.lb)
    out$pi_riley_ub <- num(prr$pi.ub)
  }
  if (!(res$method %in% c("FE", "EE", "CE"))) {
    ci <- tryCatch(confint(res)$random, error = function(e) NULL)
    if (!is.null(ci)) {
      out$confint <- list(tau2 = num(ci[1, ]), tau = num(ci[2, ]),
                          I2 = num(ci[3, ]), H2 = num(ci[4, ]))
    }
  }
  out
}

safe_fit <- function(expr) {
  tryCatch(fit_summary(suppressWarnings(expr)),
           error = function(e) list(error = conditionMessage(e)))
}

# ---------------------------------------------------------------- datasets
bcg <- dat.bcg
bcg_rr <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
bcg_or <- escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
norm <- dat.normand1999
norm_smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                   n2i = n2i, data = norm)
norm_md <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                  n2i = n2i, data = norm)
norm_rom <- escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                   n2i = n2i, data = norm)
hack <- dat.hackshaw1998
raud <- dat.raudenbush1985
tv9 <- data.frame(yi = c(0.90, 0.10, 1.40, -0.30, 0.50), vi = c(0.19, 0.06, 0.25, 0.09, 0.12))

set.seed(20240508)
random_generic <- function(k, tau) {
  vi <- runif(k, 0.01, 0.5)
  data.frame(yi = rnorm(k, 0.3, sqrt(vi + tau^2)), vi = vi,
             x1 = round(rnorm(k, 10, 3), 1),
             g = sample(c("a", "b", "c"), k, replace = TRUE))
}
random_cont <- function(k) {
  n1 <- sample(5:40, k, TRUE); n2 <- sample(5:40, k, TRUE)
  data.frame(m1i = round(rnorm(k, 12, 2), 2), sd1i = round(runif(k, 2, 6), 2), n1i = n1,
             m2i = round(rnorm(k, 10, 2), 2), sd2i = round(runif(k, 2, 6), 2), n2i = n2)
}
random_bin <- function(k) {
  n1 <- sample(10:200, k, TRUE); n2 <- sample(10:200, k, TRUE)
  ai <- rbinom(k, n1, runif(k, 0, 0.15)); ci <- rbinom(k, n2, runif(k, 0, 0.2))
  data.frame(ai = ai, n1i = n1, ci = ci, n2i = n2)
}
gens <- lapply(c(2, 3, 5, 10, 25, 60), function(k) random_generic(k, 0.3))
names(gens) <- paste0("random_generic_k", c(2, 3, 5, 10, 25, 60))
gens$random_generic_k12_homog <- random_generic(12, 0)
conts <- lapply(c(4, 15, 40), random_cont)
names(conts) <- paste0("random_cont_k", c(4, 15, 40))
bins <- lapply(c(6, 20, 45), random_bin)
names(bins) <- paste0("random_bin_k", c(6, 20, 45))
# a table set with single-zero and double-zero studies
zeros <- data.frame(ai = c(0, 3, 0, 12, 5, 0, 7), n1i = c(50, 40, 30, 100, 60, 25, 80),
                    ci = c(2, 0, 0, 15, 9, 4, 7), n2i = c(48, 42, 31, 98, 61, 27, 79))

# ---------------------------------------------------------------- escalc
escalc_cases <- list()
add_escalc <- function(name, measure, data, type, ...) {
  if (type == "cont") {
    es <- escalc(measure, m1i = data$m1i, sd1i = data$sd1i, n1i = data$n1i,
                 m2i = data$m2i, sd2i = data$sd2i, n2i = data$n2i, ...)
    inputs <- as.list(data[, c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")])
  } else {
    es <- suppressWarnings(escalc(measure, ai = data$ai, n1i = data$n1i, ci = data$ci,
                                  n2i = data$n2i, ...))
    inputs <- as.list(data[, c("ai", "n1i", "ci", "n2i")])
  }
  escalc_cases[[length(escalc_cases) + 1]] <<- list(
    name = name, measure = measure, type = type, inputs = inputs, args = list(...),
    yi = num(es$yi), vi = num(es$vi))
}
tv8 <- data.frame(m1i = 12, sd1i = 4, n1i = 10, m2i = 9, sd2i = 5, n2i = 12)
cont_sets <- c(list(normand1999 = norm[, c("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")],
                    tv8 = tv8), conts)
for (nm in names(cont_sets)) {
  for (m in c("MD", "SMD", "ROM")) add_escalc(nm, m, cont_sets[[nm]], "cont")
  add_escalc(nm, "SMD", cont_sets[[nm]], "cont", vtype = "UB")
  add_escalc(nm, "MD", cont_sets[[nm]], "cont", vtype = "HO")
}
bcg_tab <- data.frame(ai = bcg$tpos, n1i = bcg$tpos + bcg$tneg, ci = bcg$cpos,
                      n2i = bcg$cpos + bcg$cneg)
bin_sets <- c(list(bcg = bcg_tab, zeros = zeros,
                   nielweise2007 = dat.nielweise2007[, c("ai", "n1i", "ci", "n2i")]), bins)
for (nm in names(bin_sets)) {
  for (m in c("OR", "RR", "RD", "PETO")) add_escalc(nm, m, bin_sets[[nm]], "bin")
}
for (m in c("OR", "RR", "RD")) {
  add_escalc("zeros", m, zeros, "bin", drop00 = TRUE)
  add_escalc("zeros", m, zeros, "bin", to = "all")
  add_escalc("zeros", m, zeros, "bin", to = "if0all", add = 1)
  add_escalc("zeros", m, zeros, "bin", to = "none")
}

# ---------------------------------------------------------------- rma (intercept only)
rma_sets <- list(
  tv9 = tv9, bcg_logrr = bcg_rr[, c("yi", "vi")], bcg_logor = bcg_or[, c("yi", "vi")],
  normand_smd = norm_smd[, c("yi", "vi")], normand_md = norm_md[, c("yi", "vi")],
  normand_rom = norm_rom[, c("yi", "vi")], hackshaw1998 = hack[, c("yi", "vi")],
  raudenbush1985 = raud[, c("yi", "vi")]
)
for (nm in names(gens)) rma_sets[[nm]] <- gens[[nm]][, c("yi", "vi")]
for (nm in names(conts)) {
  d <- conts[[nm]]
  rma_sets[[paste0(nm, "_smd")]] <- as.data.frame(escalc("SMD", m1i = d$m1i, sd1i = d$sd1i,
    n1i = d$n1i, m2i = d$m2i, sd2i = d$sd2i, n2i = d$n2i))[, c("yi", "vi")]
}
for (nm in names(bins)) {
  d <- bins[[nm]]
  rma_sets[[paste0(nm, "_logor")]] <- as.data.frame(escalc("OR", ai = d$ai, n1i = d$n1i,
    ci = d$ci, n2i = d$n2i))[, c("yi", "vi")]
}
rma_cases <- list()
for (nm in names(rma_sets)) {
  d <- rma_sets[[nm]]
  for (m in methods) for (t in tests) {
    if (m == "FE" && t == "knha") next
    rma_cases[[length(rma_cases) + 1]] <- list(
      data = nm, method = m, test = t,
      result = safe_fit(rma(d$yi, d$vi, method = m, test = t)))
  }
}

# ---------------------------------------------------------------- meta-regression
metareg_cases <- list()
add_metareg <- function(name, d, formula, continuous, categorical, m, t) {
  res <- tryCatch(suppressWarnings(rma(yi, vi, mods = formula, data = d, method = m, test = t)),
                  error = function(e) e)
  result <- if (inherits(res, "error")) list(error = conditionMessage(res)) else
    c(fit_summary(res), list(X = unname(res$X)))
  metareg_cases[[length(metareg_cases) + 1]] <<- list(
    data = name, formula = deparse(formula), method = m, test = t,
    yi = d$yi, vi = d$vi,
    continuous = lapply(continuous, function(v) d[[v]]),
    categorical = lapply(categorical, function(v) as.character(d[[v]])),
    order = c(continuous, categorical), result = result)
}
bcg_rr_df <- as.data.frame(bcg_rr)
for (m in methods) for (t in tests) {
  if (m == "FE" && t == "knha") next
  add_metareg("bcg_logrr", bcg_rr_df, ~ ablat, c(ablat = "ablat"), c(), m, t)
  add_metareg("bcg_logrr", bcg_rr_df, ~ alloc, c(), c(alloc = "alloc"), m, t)
  add_metareg("bcg_logrr", bcg_rr_df, ~ ablat + year, c(ablat = "ablat", year = "year"), c(), m, t)
}
for (m in c("FE", "REML", "ML", "DL")) for (t in tests) {
  if (m == "FE" && t == "knha") next
  add_metareg("bcg_logrr", bcg_rr_df, ~ ablat + alloc, c(ablat = "ablat"), c(alloc = "alloc"), m, t)
  for (nm in c("random_generic_k25", "random_generic_k60")) {
    add_metareg(nm, gens[[nm]], ~ x1 + g, c(x1 = "x1"), c(g = "g"), m, t)
  }
}
# named 'order' must be plain character vectors
metareg_cases <- lapply(metareg_cases, function(cs) { cs$order <- unname(cs$order); cs })

# ---------------------------------------------------------------- subgroups
subgroup_cases <- list()
for (m in c("REML", "DL", "FE")) for (t in tests) {
  if (m == "FE" && t == "knha") next
  for (setname in c("bcg_logrr", "random_generic_k60")) {
    d <- if (setname == "bcg_logrr") data.frame(yi = bcg_rr$yi, vi = bcg_rr$vi, g = bcg$alloc)
         else gens$random_generic_k60[, c("yi", "vi", "g")]
    levs <- sort(unique(as.character(d$g)))
    fits <- lapply(levs, function(lv) suppressWarnings(rma(yi, vi, data = d, subset = g == lv,
                                                           method = m, test = t)))
    est <- sapply(fits, function(f) c(f$beta)); se <- sapply(fits, function(f) f$se)
    between <- rma(est, sei = se, mods = ~ levs, method = "FE")
    common <- suppressWarnings(rma(yi, vi, mods = ~ g, data = d, method = m, test = t))
    common0 <- suppressWarnings(rma(yi, vi, mods = ~ g - 1, data = d, method = m, test = t))
    subgroup_cases[[length(subgroup_cases) + 1]] <- list(
      data = setname, method = m, test = t, yi = d$yi, vi = d$vi, groups = as.character(d$g),
      levels = levs,
      separate = list(estimate = est, se = se, tau2 = sapply(fits, function(f) f$tau2),
                      ci_lb = sapply(fits, function(f) f$ci.lb),
                      ci_ub = sapply(fits, function(f) f$ci.ub),
                      QM = between$QM, QMp = between$QMp, QMdf = num(between$QMdf)),
      common = list(estimate = num(common0$beta), se = num(common0$se), tau2 = common$tau2,
                    QM = common$QM, QMp = common$QMp, QMdf = num(common$QMdf)))
  }
}

# ---------------------------------------------------------------- MH / Peto
mh_cases <- list()
for (nm in names(bin_sets)) {
  d <- bin_sets[[nm]]
  for (m in c("OR", "RR", "RD")) {
    res <- tryCatch(suppressWarnings(rma.mh(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i,
                                            measure = m)), error = function(e) e)
    result <- if (inherits(res, "error")) list(error = conditionMessage(res)) else
      list(k = res$k, k_yi = res$k.yi, beta = num(res$beta), se = num(res$se),
           zval = num(res$zval), pval = num(res$pval), ci_lb = num(res$ci.lb),
           ci_ub = num(res$ci.ub), QE = num(res$QE), QEp = num(res$QEp), I2 = num(res$I2),
           H2 = num(res$H2), CO = num(res$CO), COp = num(res$COp), MH = num(res$MH),
           MHp = num(res$MHp), BD = num(res$BD), BDp = num(res$BDp), TA = num(res$TA),
           TAp = num(res$TAp))
    mh_cases[[length(mh_cases) + 1]] <- list(data = nm, measure = m, inputs = as.list(d),
                                             result = result)
  }
  res <- tryCatch(suppressWarnings(rma.peto(ai = d$ai, n1i = d$n1i, ci = d$ci, n2i = d$n2i)),
                  error = function(e) e)
  result <- if (inherits(res, "error")) list(error = conditionMessage(res)) else
    list(k = res$k, k_yi = res$k.yi, beta = num(res$beta), se = num(res$se),
         zval = num(res$zval), pval = num(res$pval), ci_lb = num(res$ci.lb),
         ci_ub = num(res$ci.ub), QE = num(res$QE), QEp = num(res$QEp), I2 = num(res$I2),
         H2 = num(res$H2))
  mh_cases[[length(mh_cases) + 1]] <- list(data = nm, measure = "PETO", inputs = as.list(d),
                                           result = result)
}

# ---------------------------------------------------------------- sensitivity
sens_sets <- c("bcg_logrr", "hackshaw1998", "normand_smd", "tv9", "raudenbush1985",
               "random_generic_k25", "random_cont_k15_smd", "random_bin_k20_logor")
l1o_cases <- list(); tf_cases <- list(); reg_cases <- list(); rank_cases <- list()
infl_cases <- list()
for (nm in sens_sets) {
  d <- rma_sets[[nm]]
  for (m in c("FE", "DL", "REML", "PM")) for (t in tests) {
    if (m == "FE" && t == "knha") next
    fit <- suppressWarnings(rma(d$yi, d$vi, method = m, test = t))
    l <- leave1out(fit)
    l1o_cases[[length(l1o_cases) + 1]] <- list(
      data = nm, method = m, test = t,
      result = list(estimate = num(l$estimate), se = num(l$se), zval = num(l[[3]]),
                    pval = num(l$pval), ci_lb = num(l$ci.lb), ci_ub = num(l$ci.ub),
                    Q = num(l$Q), Qp = num(l$Qp), tau2 = if (m == "FE") rep(0, fit$k) else num(l$tau2),
                    I2 = num(l$I2), H2 = num(l$H2)))
    inf <- influence(fit)
    infl_cases[[length(infl_cases) + 1]] <- list(
      data = nm, method = m, test = t,
      result = list(rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
                    cook_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r),
                    tau2_del = num(inf$inf$tau2.del), QE_del = num(inf$inf$QE.del),
                    hat = num(inf$inf$hat), weight = num(inf$inf$weight),
                    dfbetas = num(inf$dfbs$intrcpt), is_infl = inf$is.infl))
    for (model in c("rma", "lm")) {
      r <- regtest(fit, model = model)
      reg_cases[[length(reg_cases) + 1]] <- list(
        data = nm, method = m, test = t, model = model,
        result = list(zval = num(r$zval), pval = num(r$pval), ddf = num(r$ddf),
                      est = num(r$est), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub),
                      slope = num(coef(r$fit)[2])))
    }
    for (est in c("L0", "R0")) for (side in c("auto", "left", "right")) {
      tf <- tryCatch(suppressWarnings(if (side == "auto") trimfill(fit, estimator = est)
                                      else trimfill(fit, estimator = est, side = side)),
                     error = function(e) e)
      result <- if (inherits(tf, "error")) list(error = conditionMessage(tf)) else
        list(k0 = tf$k0, se_k0 = num(tf$se.k0), side = tf$side, p_k0 = num(tf$p.k0),
             yi = num(tf$yi), vi = num(tf$vi), fill = tf$fill,
             beta = num(tf$beta), se = num(tf$se), ci_lb = num(tf$ci.lb),
             ci_ub = num(tf$ci.ub), pval = num(tf$pval), tau2 = num(tf$tau2),
             QE = num(tf$QE), I2 = num(tf$I2))
      tf_cases[[length(tf_cases) + 1]] <- list(data = nm, method = m, test = t,
                                               estimator = est, side = side, result = result)
    }
  }
  rk <- ranktest(d$yi, d$vi)
  rank_cases[[length(rank_cases) + 1]] <- list(data = nm, tau = num(rk$tau), pval = num(rk$pval))
}
# rank test with ties (normal approximation path)
ties <- data.frame(yi = c(0.1, 0.3, 0.3, 0.5, -0.2, 0.8, 0.4, 0.0),
                   vi = c(0.04, 0.04, 0.09, 0.09, 0.02, 0.16, 0.05, 0.03))
rk <- ranktest(ties$yi, ties$vi)
rank_cases[[length(rank_cases) + 1]] <- list(data = "ties", yi = ties$yi, vi = ties$vi,
                                             tau = num(rk$tau), pval = num(rk$pval))
rma_sets$ties <- ties
# influence with moderators
fit <- rma(yi, vi, mods = ~ ablat + year, data = bcg_rr_df)
inf <- influence(fit)
infl_mods <- list(data = "bcg_logrr", mods = c("ablat", "year"), method = "REML", test = "z",
                  ablat = bcg$ablat, year = bcg$year,
                  result = list(rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
                                cook_d = num(inf$inf$cook.d), cov_r = num(inf$inf$cov.r),
                                tau2_del = num(inf$inf$tau2.del), QE_del = num(inf$inf$QE.del),
                                hat = num(inf$inf$hat), weight = num(inf$inf$weight),
                                dfbetas = unname(sapply(c("intrcpt", "ablat", "year"),
                                                        function(n) inf$dfbs[[n]])),
                                is_infl = inf$is.infl))

out <- list(
  metafor_version = as.character(packageVersion("metafor")),
  r_version = R.version.string,
  datasets = lapply(rma_sets, function(d) list(yi = d$yi, vi = d$vi)),
  escalc = escalc_cases, rma = rma_cases, metareg = metareg_cases,
  subgroups = subgroup_cases, mh = mh_cases, leave1out = l1o_cases,
  trimfill = tf_cases, regtest = reg_cases, ranktest = rank_cases,
  influence = infl_cases, influence_mods = infl_mods
)
writeLines(toJSON(out, digits = NA, na = "null", auto_unbox = TRUE, null = "null"), out_file)
cat("wrote", out_file, "\n")
