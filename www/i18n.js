// Every string the page shows, in English and Simplified Chinese.
// `t(key, vars)` looks a key up in the current language and fills {name}
// placeholders; a key missing in Chinese falls back to English.

const en = {
  'skip': 'Skip to the customer form',
  'app.title': 'Credit risk advisor',
  'app.tagline': 'Scores customers in your browser with a ferrisk model. Nothing you enter leaves this page.',
  'lang.label': 'Language',

  'model.title': 'Model',
  'model.pick': 'Model',
  'model.open': 'Open a model file…',
  'model.drop': 'or drop a .frk file here',
  'model.loading': 'Loading {name}…',
  'model.loaded': 'Loaded {name}.',
  'model.none': 'This server offers no models. Open a model file to start.',
  'model.listFailed': 'No model list is available here. Open a model file to start.',
  'model.yourFile': '{name} (your file)',
  'model.loadError': 'Cannot open {name}: {message}',
  'model.notFrk': '{name} is not a .frk model file.',
  'model.kind': 'Kind',
  'model.data': 'Trained on',
  'model.dataRows': '{name}, {rows} rows',
  'model.created': 'Created',
  'model.threshold': 'Decision threshold',
  'model.explanation': 'Explanations',
  'model.producer': 'Written by',
  'model.target': 'Predicts',
  'model.targetValue': '{label} = {positive}',
  'model.confidential': 'This file embeds support vectors derived from training customers: handle it as confidential data.',
  'model.wasmFailed': 'The scoring engine could not start: {message}',

  'form.title': 'Customer',
  'form.hint': 'Prefilled with a typical customer from the training data. Change any value: the score updates as you type. Leave a number empty if unknown.',
  'form.range': 'Training range {min} – {max}',
  'form.outside': 'Outside the training range ({min} – {max}): the model extrapolates.',
  'form.score': 'Score',
  'form.reset': 'Reset to typical customer',
  'form.invalid': 'Fix the highlighted field to get a score.',
  'form.noModel': 'Choose or open a model first.',

  'err.notNumber': '“{value}” is not a number. Enter a number, for example {example}.',
  'err.notFinite': 'Enter a finite number.',

  'result.title': 'Result',
  'result.empty': 'The score appears here.',
  'result.pdDefault': 'Probability of default',
  'result.decisionPos': 'Classified {positive}',
  'result.decisionNeg': 'Classified {negative}',
  'result.decisionHelp': 'at the model’s threshold of {threshold}',
  'result.warnings': 'Warnings',
  'result.reasons': 'What moved this score',
  'result.reasonsHelp': 'Each bar is a feature’s contribution to the log-odds of {positive}, compared with an average training customer. Bars to the right raised the risk; bars to the left lowered it.',
  'result.reasonsHelpProb': 'Each bar is a feature’s contribution to the probability of {positive}, in percentage points, compared with an average training customer. Bars to the right raised the risk; bars to the left lowered it.',
  'result.baselineProb': 'Average customer: {base} → this customer: {output}',
  'result.method': 'Method: {method}',
  'result.raises': 'raises risk',
  'result.lowers': 'lowers risk',
  'result.others': '{n} other features together: {sum}',
  'result.noExplain': 'Explanations are not available for {kind} yet.',
  'result.baseline': 'Average customer: {base} log-odds → this customer: {output} log-odds',
  'result.points': 'Score',
  'result.reasonCodesDecline': 'Principal reasons for the decision',
  'result.reasonCodes': 'Main risk factors',
  'result.reasonPoints': '({points} points)',

  'quality.title': 'Model quality',
  'quality.on': 'Measured on the held-out test split: {rows} customers, {positives} of them {positive}. Trained on {train} rows.',
  'quality.onFile': 'Measured on {rows} labelled rows of this file, {positives} of them {positive}.',
  'quality.none': 'This model file carries no evaluation.',
  'quality.metric': 'Metric',
  'quality.value': 'Value',
  'metric.accuracy': 'Accuracy',
  'metric.precision': 'Precision',
  'metric.recall': 'Recall',
  'metric.f1': 'F1',
  'metric.rocAuc': 'ROC AUC',
  'metric.ks': 'KS statistic',
  'metric.brier': 'Brier score',
  'metric.logLoss': 'Log-loss',
  'metric.cvAuc': 'CV AUC',
  'metric.cvAucValue': '{mean} ± {std} ({k} folds)',
  'cm.title': 'Confusion matrix',
  'cm.actual': 'Actual',
  'cm.predicted': 'Predicted',
  'cm.caption': 'Confusion matrix at threshold {threshold}: rows are actual classes, columns predicted classes.',
  'roc.title': 'ROC curve',
  'roc.fpr': 'False positive rate',
  'roc.tpr': 'True positive rate',
  'roc.chance': 'chance',
  'roc.operating': 'threshold {threshold}',
  'roc.caption': 'ROC curve, area under the curve {auc}.',

  'batch.title': 'Batch scoring',
  'batch.help': 'Choose a CSV with the model’s columns. It is scored in a background worker inside this page; nothing is uploaded. If it has the column “{label}”, the page also measures the model on it.',
  'batch.choose': 'Choose a CSV…',
  'batch.cancel': 'Cancel',
  'batch.download': 'Download results (CSV)',
  'batch.reading': 'Reading {name}…',
  'batch.progress': '{rows} rows scored ({percent}% of the file read)',
  'batch.done': 'Scored {rows} rows of {name} in {seconds} s.',
  'batch.failedRows': '{n} rows could not be scored; their probability is empty in the download.',
  'batch.cancelled': 'Cancelled.',
  'batch.error': 'Cannot score {name}: {message}',
  'batch.preview': 'First {n} of {total} rows',
  'batch.metricsTitle': 'Model quality on this file',
  'batch.unlabelled': 'The file has no “{label}” column, so no metrics.',
  'batch.skippedLabels': '{n} rows had no usable label and are left out of the metrics.',
  'batch.oneClass': 'The labels hold only one class; metrics need both.',
  'batch.psiTitle': 'Population stability (PSI)',
  'batch.psiHelp': 'How far this file’s customers differ from the training population, per feature and for the score. Below 0.10 is stable; 0.10–0.25 is worth watching; 0.25 or more is a significant shift.',
  'batch.psiFeature': 'Feature',
  'batch.psiLevel': 'Assessment',
  'batch.psiScore': 'Score (probability)',
  'batch.level.stable': 'stable',
  'batch.level.watch': 'watch',
  'batch.level.shift': 'shift',
  'col.row': 'Line',
  'col.probability': 'Probability',
  'col.decision': 'Decision',
  'col.actual': 'Actual',
  'col.note': 'Note',

  'footer': 'Models are trained natively in Rust and scored here in WebAssembly, with the same code as the command line.',
  'offline.ready': 'Available offline.',
};

const zh = {
  'skip': '跳到客户信息表单',
  'app.title': '信用风险顾问',
  'app.tagline': '使用 ferrisk 模型在浏览器中为客户评分。您输入的任何内容都不会离开此页面。',
  'lang.label': '语言',

  'model.title': '模型',
  'model.pick': '模型',
  'model.open': '打开模型文件…',
  'model.drop': '或将 .frk 文件拖放到此处',
  'model.loading': '正在加载 {name}…',
  'model.loaded': '已加载 {name}。',
  'model.none': '此服务器未提供模型。请打开模型文件开始。',
  'model.listFailed': '这里没有模型列表。请打开模型文件开始。',
  'model.yourFile': '{name}（您的文件）',
  'model.loadError': '无法打开 {name}：{message}',
  'model.notFrk': '{name} 不是 .frk 模型文件。',
  'model.kind': '类型',
  'model.data': '训练数据',
  'model.dataRows': '{name}，{rows} 行',
  'model.created': '创建时间',
  'model.threshold': '决策阈值',
  'model.explanation': '解释方法',
  'model.producer': '生成程序',
  'model.target': '预测目标',
  'model.targetValue': '{label} = {positive}',
  'model.confidential': '此文件包含由训练客户数据得出的支持向量，请作为机密数据处理。',
  'model.wasmFailed': '评分引擎无法启动：{message}',

  'form.title': '客户信息',
  'form.hint': '已预填训练数据中的典型客户。修改任意值，评分会随输入实时更新。未知的数值可以留空。',
  'form.range': '训练数据范围 {min} – {max}',
  'form.outside': '超出训练数据范围（{min} – {max}）：模型在外推。',
  'form.score': '评分',
  'form.reset': '恢复为典型客户',
  'form.invalid': '请修正标出的字段后再评分。',
  'form.noModel': '请先选择或打开一个模型。',

  'err.notNumber': '“{value}”不是数字。请输入数字，例如 {example}。',
  'err.notFinite': '请输入有限的数字。',

  'result.title': '评分结果',
  'result.empty': '评分结果将显示在这里。',
  'result.pdDefault': '违约概率',
  'result.decisionPos': '判定为 {positive}',
  'result.decisionNeg': '判定为 {negative}',
  'result.decisionHelp': '按模型阈值 {threshold}',
  'result.warnings': '警告',
  'result.reasons': '影响评分的因素',
  'result.reasonsHelp': '每个条形表示该特征相对于训练数据中平均客户对 {positive} 对数几率的贡献。向右的条形提高风险，向左的条形降低风险。',
  'result.reasonsHelpProb': '每个条形表示该特征相对于训练数据中平均客户对 {positive} 概率的贡献（百分点）。向右的条形提高风险，向左的条形降低风险。',
  'result.baselineProb': '平均客户：{base} → 该客户：{output}',
  'result.method': '方法：{method}',
  'result.raises': '提高风险',
  'result.lowers': '降低风险',
  'result.others': '其余 {n} 个特征合计：{sum}',
  'result.noExplain': '{kind} 暂不支持解释。',
  'result.baseline': '平均客户：{base} 对数几率 → 该客户：{output} 对数几率',
  'result.points': '评分',
  'result.reasonCodesDecline': '主要拒绝原因',
  'result.reasonCodes': '主要风险因素',
  'result.reasonPoints': '（{points} 分）',

  'quality.title': '模型质量',
  'quality.on': '在留出的测试集上测得：{rows} 位客户，其中 {positives} 位为 {positive}。训练集 {train} 行。',
  'quality.onFile': '在此文件的 {rows} 行带标签数据上测得，其中 {positives} 行为 {positive}。',
  'quality.none': '此模型文件不含评估结果。',
  'quality.metric': '指标',
  'quality.value': '数值',
  'metric.accuracy': '准确率',
  'metric.precision': '精确率',
  'metric.recall': '召回率',
  'metric.f1': 'F1 分数',
  'metric.rocAuc': 'ROC AUC',
  'metric.ks': 'KS 统计量',
  'metric.brier': 'Brier 分数',
  'metric.logLoss': '对数损失',
  'metric.cvAuc': '交叉验证 AUC',
  'metric.cvAucValue': '{mean} ± {std}（{k} 折）',
  'cm.title': '混淆矩阵',
  'cm.actual': '实际',
  'cm.predicted': '预测',
  'cm.caption': '阈值 {threshold} 下的混淆矩阵：行为实际类别，列为预测类别。',
  'roc.title': 'ROC 曲线',
  'roc.fpr': '假阳性率',
  'roc.tpr': '真阳性率',
  'roc.chance': '随机',
  'roc.operating': '阈值 {threshold}',
  'roc.caption': 'ROC 曲线，曲线下面积 {auc}。',

  'batch.title': '批量评分',
  'batch.help': '选择包含模型所需列的 CSV 文件。文件在本页面的后台线程中评分，不会上传。如果文件包含“{label}”列，页面还会在其上评估模型。',
  'batch.choose': '选择 CSV 文件…',
  'batch.cancel': '取消',
  'batch.download': '下载结果（CSV）',
  'batch.reading': '正在读取 {name}…',
  'batch.progress': '已评分 {rows} 行（已读取文件的 {percent}%）',
  'batch.done': '已在 {seconds} 秒内为 {name} 的 {rows} 行评分。',
  'batch.failedRows': '{n} 行无法评分；下载文件中这些行的概率为空。',
  'batch.cancelled': '已取消。',
  'batch.error': '无法为 {name} 评分：{message}',
  'batch.preview': '前 {n} 行（共 {total} 行）',
  'batch.metricsTitle': '模型在此文件上的质量',
  'batch.unlabelled': '文件中没有“{label}”列，因此无法计算指标。',
  'batch.skippedLabels': '{n} 行没有可用的标签，未计入指标。',
  'batch.oneClass': '标签只有一个类别；计算指标需要两个类别。',
  'batch.psiTitle': '群体稳定性（PSI）',
  'batch.psiHelp': '本文件客户与训练群体的差异，按特征和评分分别计算。低于 0.10 为稳定；0.10–0.25 需关注；0.25 及以上为显著偏移。',
  'batch.psiFeature': '特征',
  'batch.psiLevel': '评估',
  'batch.psiScore': '评分（概率）',
  'batch.level.stable': '稳定',
  'batch.level.watch': '关注',
  'batch.level.shift': '偏移',
  'col.row': '行号',
  'col.probability': '概率',
  'col.decision': '决策',
  'col.actual': '实际',
  'col.note': '备注',

  'footer': '模型在 Rust 中本地训练，并在此处通过 WebAssembly 评分，与命令行使用同一套代码。',
  'offline.ready': '可离线使用。',
};

// Display names of known data columns (German credit, bank marketing).
const featureNames = {
  zh: {
    status_of_existing_checking_account: '现有支票账户状态',
    duration_in_month: '贷款期限（月）',
    credit_history: '信用记录',
    purpose: '贷款用途',
    credit_amount: '贷款金额',
    savings_account_and_bonds: '储蓄账户与债券',
    present_employment_since: '当前工作年限',
    installment_rate_in_percentage_of_disposable_income: '分期还款占可支配收入比例（%）',
    personal_status_and_sex: '婚姻状况与性别',
    other_debtors_or_guarantors: '其他债务人或担保人',
    present_residence_since: '现居住年限',
    property: '财产',
    age_in_years: '年龄（岁）',
    other_installment_plans: '其他分期付款计划',
    housing: '住房',
    number_of_existing_credits_at_this_bank: '在本行的现有贷款数',
    job: '职业',
    number_of_people_being_liable_to_provide_maintenance_for: '需供养人数',
    telephone: '电话',
    foreign_worker: '外籍劳工',
    age: '年龄',
    marital: '婚姻状况',
    education: '教育程度',
    default: '是否有违约记录',
    balance: '账户余额',
    loan: '个人贷款',
    contact: '联系方式',
    day: '联系日',
    month: '联系月份',
    campaign: '本次活动联系次数',
    pdays: '距上次联系天数',
    previous: '此前联系次数',
    poutcome: '上次活动结果',
    income: '收入',
    debt_ratio: '负债比率',
    employment_years: '工作年限',
  },
};

// Model kind names by kind id; the runtime's English name is the fallback.
const kindNames = {
  zh: {
    lr: '逻辑回归',
    'svm-linear': '线性 SVM（Platt 校准）',
    'svm-rbf': 'RBF 核 SVM（Platt 校准）',
    rf: '随机森林',
    gbm: '梯度提升',
  },
};

const dictionaries = { en, zh };
let current = 'en';

export const languages = Object.keys(dictionaries);

export function setLanguage(lang) {
  current = dictionaries[lang] ? lang : 'en';
  document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';
  return current;
}

export function language() {
  return current;
}

export function t(key, vars = {}) {
  const text = dictionaries[current][key] ?? en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

// A readable label for a data column: a known translation, else the
// column name with underscores as spaces and a capital first letter.
export function featureLabel(name) {
  const known = featureNames[current]?.[name];
  if (known) return known;
  const words = name.replace(/[_\s]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// The name of a model kind in the current language.
export function kindLabel(kind, fallback) {
  return kindNames[current]?.[kind] ?? fallback ?? kind;
}

// Fills every element carrying data-i18n="key" with its text.
export function translatePage(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  document.title = `ferrisk · ${t('app.title')}`;
}

// Locale-aware integer formatting (thousands separators).
export function fmtInt(n) {
  return Number(n).toLocaleString(current === 'zh' ? 'zh-CN' : 'en-US');
}
