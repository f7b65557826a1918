"""Fill the zh-Hant catalog of the web application and compile it (pure Python, no gettext needed).

    .venv/bin/python scripts/web_i18n.py        # after `django-admin makemessages -l zh_Hant` added msgids
"""

from __future__ import annotations

import ast
import re
import struct
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "src/ccinspect/web/locale/zh_Hant/LC_MESSAGES/django.po"

ZH = {
    "Broker": "證券商", "Regulator": "主管機關", "Operator": "系統營運者", "name": "名稱", "kind": "類別",
    "broker profile": "券商基本資料", "Site administrator": "系統管理員", "Broker administrator": "券商管理員",
    "Security officer": "資安人員", "Computer auditor": "電腦稽核", "Regulator inspector": "主管機關查核人員",
    "organisation": "機構", "role": "角色", "job title": "職稱",
    "The password must contain letters and at least one digit or symbol.": "密碼須包含英文字母及至少一個數字或符號。",
    "Your password must contain letters and at least one digit or symbol.": "密碼須包含英文字母及至少一個數字或符號。",
    "You used this password recently; choose one not among your last %(n)d.":
        "此密碼最近已使用過，請勿使用最近 %(n)d 次的密碼。",
    "You may not reuse any of your last %(n)d passwords.": "不得重複使用最近 %(n)d 次的密碼。",
    "The user name or password is not correct.": "帳號或密碼不正確。",
    "Your current password is not correct.": "目前的密碼不正確。", "The two new passwords differ.": "兩次輸入的新密碼不一致。",
    "Your password has been changed.": "密碼已變更。", "Two-factor authentication is on.": "已啟用雙因子驗證。",
    "Choose an organisation you manage.": "請選擇您管理的機構。", "Open findings by chapter": "各章節未結案缺失",
    "Compliance by chapter (%)": "各章節符合率（%）", "In progress": "進行中", "Submitted for review": "已送覆核",
    "Signed off": "已覆核簽核", "Monthly": "每月", "Half-yearly": "半年", "Yearly": "年度", "Not assessed": "未評估",
    "Compliant": "符合", "Deficient": "缺失", "Not applicable": "不適用", "Low": "輕微", "Medium": "一般",
    "High": "重大", "Critical": "嚴重", "Open": "未處理", "Ready for retest": "待複查", "Closed": "已結案",
    "title": "標題", "description": "說明", "severity": "嚴重度", "owner": "負責人", "due date": "改善期限",
    "remediation plan": "改善計畫", "Upload": "上傳", "Retest evidence": "複查佐證",
    "Automated check result": "自動檢查結果", "Choose a file to upload.": "請選擇要上傳的檔案。",
    "Choose a results file (JSON).": "請選擇檢查結果檔（JSON）。",
    "%(n)d automated results attached, %(s)d outside this inspection.":
        "已附加 %(n)d 筆自動檢查結果，%(s)d 筆不屬於本次查核。",
    "Finding raised.": "已開立缺失。", "Audit trail": "稽核軌跡",
    "Every create, update and delete, with who, when and what changed. Nobody can edit it.":
        "每一筆新增、修改及刪除，記錄人員、時間及異動內容。任何人皆不得修改。",
    "When": "時間", "Who": "人員", "Action": "動作", "Record": "紀錄", "Changes": "異動內容",
    "Account locked": "帳號已鎖定",
    "Too many failed sign-in attempts. The account is locked; try again later or ask your administrator.":
        "登入失敗次數過多，帳號已鎖定；請稍後再試或洽管理員。",
    "Sign in": "登入", "Enter the six-digit code from your authenticator app.": "請輸入驗證器 App 顯示的六位數驗證碼。",
    "Authentication code": "驗證碼", "User name": "帳號", "Password": "密碼",
    "After three failed attempts the account is locked for a while.": "連續三次登入失敗，帳號將暫時鎖定。",
    "Two-factor authentication": "雙因子驗證", "Two-factor authentication is on for your account.": "您的帳號已啟用雙因子驗證。",
    "Your role requires two-factor authentication.": "您的角色必須使用雙因子驗證。",
    "Add this key to an authenticator app (TOTP, 30 seconds, 6 digits), then enter the code it shows.":
        "請將此金鑰加入驗證器 App（TOTP，30 秒，6 位數），再輸入其顯示的驗證碼。",
    "Enter the code from your authenticator app.": "請輸入驗證器 App 的驗證碼。", "Confirm": "確認",
    "Change password": "變更密碼", "You must change your initial password before you continue.": "請先變更初始密碼才能繼續。",
    "Current password": "目前密碼", "New password": "新密碼", "New password again": "再次輸入新密碼",
    "API tokens": "API 權杖", "Copy the token now; it is not shown again:": "請立即複製權杖，之後不會再顯示：",
    "Name": "名稱", "Prefix": "前綴", "Created": "建立時間", "Last used": "最近使用", "Revoke": "撤銷",
    "New token": "新增權杖", "Use it as: Authorization: Bearer <token>. API documentation:":
        "使用方式：Authorization: Bearer <權杖>。API 文件：",
    "Users": "使用者", "Initial password for": "初始密碼：",
    "give it to the user in person; it must be changed at first sign-in.": "請親自交付使用者；首次登入時必須變更。",
    "Job title": "職稱", "Role": "角色", "Organisation": "機構", "Reset password": "重設密碼", "New user": "新增使用者",
    "Family name": "姓", "Given name": "名", "Create": "建立", "Cybersecurity inspection": "資通安全檢查",
    "Dashboard": "儀表板", "Inspections": "查核", "Calendar": "查核行事曆", "Findings": "缺失追蹤",
    "Deduction table": "扣分表", "Two-factor": "雙因子驗證", "Sign out": "登出", "Language": "語言", "Tier": "資安分級",
    "Due this month": "本月到期", "Overdue inspections": "逾期查核", "Open findings": "未結案缺失",
    "Deduction points": "扣分", "Overdue findings": "逾期缺失", "Not started": "未開始", "Duty": "例行作業",
    "Overdue": "逾期", "Becoming effective next": "即將生效", "Brokers": "證券商", "Automated check": "自動檢查",
    "Automated": "自動檢查", "Inspection focus": "查核重點", "Notes": "備註", "Why not applicable": "不適用理由",
    "new version of": "新版本，取代", "Result": "結果", "Save": "儲存", "Evidence file": "佐證檔案", "Note": "備註",
    "Upload evidence": "上傳佐證", "Raise a finding": "開立缺失", "Severity": "嚴重度", "Period": "期間",
    "Due": "到期日", "Reviewer's note": "覆核意見", "Signed off by": "覆核簽核人", "Submit for review": "送覆核",
    "Attach automated check results (JSON)": "附加自動檢查結果（JSON）", "Import": "匯入", "Sign off": "覆核簽核",
    "What needs rework": "需修正事項", "Return for rework": "退回修正", "Checklist": "檢查表", "Owner": "負責人",
    "Due date": "改善期限", "Remediation plan": "改善計畫", "Edit": "編輯", "Upload retest evidence": "上傳複查佐證",
    "Start remediation": "開始改善", "Retest passed: close": "複查通過：結案", "Why the retest failed": "複查未通過原因",
    "Retest failed": "複查未通過", "Evidence": "佐證資料", "History": "歷程", "Status": "狀態", "Title": "標題",
    "Description": "說明", "Raise the finding": "開立缺失", "Not closed": "未結案", "All": "全部",
    "Requirement": "檢查項目", "No findings.": "無缺失。", "Plan from the calendar": "依行事曆安排查核",
    "Inspection": "查核", "No inspections yet.": "尚無查核。", "Inspection calendar": "查核行事曆",
    "No broker to show.": "沒有可顯示的證券商。", "Start inspection": "開始查核",
    "The code is not valid. Check the time on your authenticator and try again.":
        "驗證碼不正確，請確認驗證器的時間後再試。",
    "Main": "主選單",
    "No open findings": "無未結案缺失", "No assessed inspections yet": "尚無已評估的查核",
    "All %(n)s overdue findings": "全部 %(n)s 項逾期缺失",
    "Nothing in this unit applies": "本單元無適用項目",
    "QR code for your authenticator app": "驗證器 App 的 QR Code",
    "Scan the QR code with an authenticator app (TOTP, 30 seconds, 6 digits), or type in the key, then enter "
    "the code it shows.": "請以驗證器 App（TOTP，30 秒，6 位數）掃描 QR Code 或輸入金鑰，再輸入其顯示的驗證碼。",
    "Setup link": "設定連結",
    "Finding raised": "開立缺失", "Updated: %(fields)s": "更新：%(fields)s", "Retest evidence %(file)s": "複查佐證 %(file)s",
}


# Incidents, the regulator's views and the reports (issue 7).
ZH.update({
    "Incident register": "資安事件登錄", "ID": "編號", "Category": "類別", "Detected (Taipei)": "發現時間（臺北）",
    "Systems affected": "受影響系統", "Customers affected": "受影響客戶數", "Estimated amount (NTD)": "預估影響金額（新臺幣）",
    "Personal data": "個人資料", "Immediate report to TWSE": "立即函報證交所", "Outage started": "服務中斷開始",
    "Service restored": "服務恢復", "Interruption (minutes)": "中斷時間（分鐘）",
    "Tolerable interruption (minutes)": "可容忍中斷時間（分鐘）", "RTO (minutes)": "RTO（分鐘）",
    "Exceeded tolerable time": "超過可容忍中斷時間", "BCP follow-ups": "營運持續追蹤事項", "yes": "是", "no": "否",
    "not required": "免", "Service outage": "服務中斷", "Intrusion": "入侵", "Malware or ransomware": "惡意程式或勒索軟體",
    "DDoS attack": "DDoS 攻擊", "Data leak": "資料外洩", "Account takeover": "帳號盜用", "Phishing": "網路釣魚",
    "Other": "其他", "stolen": "竊取", "altered": "竄改", "destroyed": "毀損", "lost": "滅失", "leaked": "洩漏",
    "category": "類別", "detected at": "發現時間", "systems affected": "受影響系統", "customers affected": "受影響客戶數",
    "estimated amount (NTD)": "預估影響金額（新臺幣）", "personal data": "個人資料", "outage started": "服務中斷開始",
    "service restored": "服務恢復", "tolerable interruption (minutes)": "可容忍中斷時間（分鐘）",
    "initial report": "初步通報", "formal report": "正式通報", "closure report": "解除通報", "report to TWSE": "函報證交所",
    "action": "事項", "Incident reporting overdue": "資安事件通報逾期", "BCP follow-up": "營運持續追蹤事項",
    "Deadline": "期限", "reported": "已通報", "Detected at (Taipei time)": "發現時間（臺北時間）",
    "Personal data stolen, altered, destroyed, lost or leaked (CC-20000.6: report to TWSE immediately)":
        "個人資料遭竊取、竄改、毀損、滅失或洩漏（CC-20000.6：應立即函報證交所）",
    "Service outage: RTO against the tolerable interruption time": "服務中斷：RTO 與可容忍中斷時間",
    "Detected": "發現", "Taipei": "臺北時間",
    "Personal data was involved: report to TWSE (or TPEx / the Securities Association) immediately by official letter, "
    "for forwarding to the competent authority (CC-20000.6).":
        "涉及個人資料：應立即函報證交所（或櫃買中心、券商公會）轉陳主管機關（CC-20000.6）。",
    "Reporting clocks": "通報時限", "reported at (Taipei; empty = now)": "通報時間（臺北；空白為現在）",
    "Record the report": "登錄通報", "Impact": "影響", "exceeds the tolerable interruption time": "超過可容忍中斷時間",
    "exceeds the RTO": "超過 RTO", "the RTO is longer than the tolerable interruption time": "RTO 長於可容忍中斷時間",
    "Not a service outage.": "非服務中斷事件。", "Raise a finding from this incident": "依本事件開立缺失",
    "Checklist item (inspections in progress)": "檢查項目（進行中的查核）",
    "Findings are raised on a checklist item of an inspection in progress; there is none.":
        "缺失須開立於進行中查核的檢查項目；目前沒有進行中的查核。",
    "Done": "已完成", "What was done": "辦理情形",
    "New BCP follow-up (e.g. revise the recovery procedure, run a failover drill)":
        "新增營運持續追蹤事項（例如：修訂復原程序、辦理切換演練）",
    "Add": "新增", "Edit the incident": "編輯事件",
    "Reporting clocks from detection (Asia/Taipei): initial report %(a)s, formal report %(b)s, closure %(c)s; personal "
    "data incidents are reported to TWSE immediately (CC-20000.6).":
        "通報時限自發現時起算（臺北時間）：初步通報 %(a)s、正式通報 %(b)s、解除通報 %(c)s；涉及個人資料之事件應立即函報證交所（CC-20000.6）。",
    "Export XLSX": "匯出 XLSX", "Record an incident": "登錄資安事件", "Incident": "事件", "Outage": "服務中斷",
    "min": "分", "ongoing": "中斷中", "tolerable": "可容忍", "No incidents.": "無資安事件。",
    "The clocks start at detection: initial report within %(a)s, formal report within %(b)s, closure within %(c)s.":
        "時限自發現時起算：%(a)s 內初步通報、%(b)s 內正式通報、%(c)s 內解除通報。",
    "Record the incident": "登錄事件", "Initial report": "初步通報", "Formal report": "正式通報",
    "Closure report": "解除通報", "Met": "如期完成", "Late": "逾時完成", "Running": "計時中", "%(n)d d": "%(n)d 天",
    "%(n)d h": "%(n)d 小時", "%(n)d min": "%(n)d 分", "%(t)s left": "剩餘 %(t)s", "%(t)s overdue": "已逾期 %(t)s",
    "reported %(t)s before the deadline": "於期限前 %(t)s 完成", "reported %(t)s late": "逾時 %(t)s 完成",
    "Only the broker's security officer or administrator records incidents.": "資安事件由券商資安人員或管理員登錄。",
    "Incident recorded; the reporting clocks are running.": "已登錄資安事件，通報時限開始計時。", "Saved.": "已儲存。",
    "Report recorded.": "已登錄通報。", "Finding F-%(n)d raised from the incident.": "已依本事件開立缺失 F-%(n)d。",
    "BCP follow-up added.": "已新增營運持續追蹤事項。", "BCP follow-up done.": "營運持續追蹤事項已完成。",
    "Regulator views": "監理檢視", "Risk map": "風險地圖", "Cyber risk now": "資安風險現況", "Risk trends": "風險趨勢分析",
    "Read-only: the regulator sees the broker's inspections, findings and incidents but changes nothing.":
        "唯讀：主管機關可檢視券商之查核、缺失及資安事件，但不得修改。",
    "E-trading share (%%)": "電子交易比重（%%）", "E-trading share (%)": "電子交易比重（%）", "Capital": "資本額",
    "Tracking list (XLSX)": "缺失改善追蹤表（XLSX）", "None.": "無。", "Report": "報告", "Incidents": "資安事件",
    "Each broker by its e-trading share and the deduction points of the deficiencies found in the period; the dashed "
    "lines divide the risk blocks. Brokers with a high share and many points need attention first (seed 003, "
    "supervisory technology).":
        "依各證券商之電子交易比重及當期查核缺失扣分定位，虛線劃分風險區塊；電子交易比重高且扣分多者為優先關懷對象（監理科技運用）。",
    "E-trading share threshold (%%)": "電子交易比重門檻（%%）", "Points threshold": "扣分門檻", "Apply": "套用",
    "No inspections have been submitted yet.": "尚無已送出的查核。", "Brokers that need attention": "需關懷之證券商",
    "Number of findings": "缺失數", "Risk block": "風險區塊",
    "The deficiency types found at the largest share of brokers, and their rise or fall since the previous period: "
    "the important issues, and the hidden risks that are growing.":
        "證券商家數占比最高的缺失類型及其較前期之增減趨勢：關注重要資安議題，找出隱藏風險。",
    "%(n)s brokers inspected in the period (%(m)s in %(p)s).": "本期受查證券商 %(n)s 家（%(p)s：%(m)s 家）。",
    "Rising fastest": "增幅最大", "Deficiency type": "缺失類型", "Share (%%)": "占比（%%）",
    "Change (points of %%)": "增減（百分點）",
    "Deficiency counts and deduction points by chapter over the periods, for all brokers or one tier.":
        "各期各章節缺失件數及扣分，可依資安分級檢視。",
    "All tiers": "全部分級", "Tier %(t)s": "第 %(t)s 級", "Chapter": "章節", "Total": "合計",
    "Needs attention": "優先關懷", "Guidance": "加強輔導", "Watch": "持續關注", "Normal": "一般",
    "Tier %(n)d": "第 %(n)d 級", "E-trading share": "電子交易比重",
    "Risk map %(p)s: e-trading share × deduction points": "風險地圖 %(p)s：電子交易比重 × 查核缺失扣分",
    "Share of brokers with each deficiency type (%)": "各缺失類型之證券商家數占比（%）",
    "% of brokers inspected": "占受查證券商（%）", "Deficiencies by chapter": "各章節缺失件數",
    "Deduction points by chapter": "各章節扣分", "Deficiencies by tier": "各分級缺失件數",
    "Deduction points per period": "各期扣分", "Reports": "報表",
    "The inspection report (PDF, XLSX) of each inspection is on its page.": "各查核之檢查報告（PDF、XLSX）請見該查核頁面。",
    "Deficiency and remediation tracking list (XLSX, CC-21000.2)": "缺失改善追蹤表（XLSX，CC-21000.2）",
    "Annual information security statement (draft)": "資訊安全整體執行情形聲明書（草稿）",
    "資訊安全整體執行情形聲明書 (CC-12000.6): jointly issued by the most senior information security officer, the "
    "chairman, the president and the chief auditor, approved by the board and disclosed on the Market Observation Post "
    "System within three months after the fiscal year end. The draft summarises the year's inspections, findings and "
    "incidents.":
        "資訊安全整體執行情形聲明書（CC-12000.6）：由負責資訊安全之最高主管與董事長、總經理、稽核主管聯名出具，提報董事會通過，"
        "並於會計年度終了後三個月內揭露於公開資訊觀測站。草稿彙整本年度之查核、缺失及資安事件。",
    "Fiscal year (ending in)": "會計年度（終了年度）", "Board approval date": "董事會通過日期", "Signatory": "聲明人",
    "Most senior information security officer": "資訊安全最高主管", "Chairman": "董事長", "President": "總經理",
    "Chief auditor": "稽核主管", "Preview": "預覽", "Market risk": "市場資安風險", "Inspection report": "檢查報告",
})


# business continuity (CC-20000)
ZH.update({
    "several: separate with ;": "多項以 ; 分隔", "id": "編號", "business functions": "業務功能",
    "trading host": "交易主機", "major impact on operations": "對營運具重大影響",
    "outsourced to (provider)": "委外廠商", "provider plan every (months)": "廠商備援計畫週期（月）",
    "system": "系統", "date": "日期", "RPO (minutes)": "RPO（分鐘）", "approver": "核定人", "moment": "時點",
    "business unit": "業務單位", "procedure": "作業程序", "systems": "系統", "approved on": "核定日",
    "DR site": "異地備援機房", "since": "建置日", "last switch-over test": "最近切換測試",
    "Business continuity drill": "業務持續運作演練", "DDoS drill": "DDoS 演練", "Fault-recovery test": "故障復原測試",
    "Backup restore test": "備份還原測試", "passed": "通過", "partial": "部分達成", "failed": "未通過",
    "scenario": "情境", "participants": "參與單位", "third party involved": "涉及第三方",
    "vendors invited": "邀請廠商", "target RTO (minutes)": "目標 RTO（分鐘）", "achieved RTO (minutes)": "實際 RTO（分鐘）",
    "target RPO (minutes)": "目標 RPO（分鐘）", "achieved RPO (minutes)": "實際 RPO（分鐘）", "result": "結果",
    "review meeting on": "檢討會議日", "improvement items": "改善事項", "response": "應變", "mitigation": "減災",
    "recovery": "復原", "reviewed on": "檢視日", "disaster recovery plan": "災難復原計畫", "DR drill": "備援演練",
    "business continuity plan": "營運持續計畫", "provider": "廠商", "form": "形式", "received on": "收到日",
    "document": "文件", "market share from (%)": "市占率下限（%）", "market share below (%)": "市占率上限（%，不含）",
    "natural-person ratio from (%)": "自然人客戶比率下限（%）",
    "natural-person ratio below (%)": "自然人客戶比率上限（%，不含）",
    "maximum tolerable interruption (minutes)": "可容忍中斷時間上限（分鐘）", "source": "來源",
    "Continuity dashboard": "營運持續儀表板", "CC-20000 amendment": "CC-20000 修正對照",
    "CC-20000 amendment: before and after": "CC-20000 修正前後條文對照",
    "Each clause the amendment changed, from the catalog's two versions of the internal-control standard. "
    "“Continues” names the pre-amendment clause a renumbered one carries on ((七) and (八) were swapped).":
        "本次修正變動之各條文，取自目錄中內部控制制度標準規範之兩個版本。「承接」指條次調整後所延續之修正前條文（(七)與(八)互換）。",
    "continues": "承接", "Before": "修正前", "After": "修正後", "Text of the clause it continues": "所承接條文之內容",
    "Notes to the amendment": "修正說明", "Business continuity (CC-20000)": "營運持續管理（CC-20000）",
    "Choose a broker to read its continuity register.": "請選擇證券商以檢視其營運持續登錄簿。", "No brokers.": "無證券商。",
    "As of %(d)s · tier %(t)s · internal-control standard version %(v)s": "基準日 %(d)s · 第 %(t)s 級 · 內部控制制度標準規範版本 %(v)s",
    "Empty template": "空白範本", "Import XLSX": "匯入 XLSX", "gaps now": "目前缺失", "gaps on %(d)s": "%(d)s 之缺失",
    "drills and reviews overdue": "逾期之演練與檢視",
    "DR site: every core system with a major impact from": "異地備援：對營運具重大影響之核心系統，生效日",
    "days left": "天後生效", "time elapsed of the last four years before the milestone": "生效前四年已經過之時間",
    "System": "系統", "At the DR site now": "目前已建置異地備援", "DR since / planned": "建置日／規劃日",
    "On the milestone": "生效日時", "falls short": "不符", "covered": "符合", "Gaps now": "目前缺失", "Gap": "缺失",
    "Clause (version)": "條文（版本）", "Remediation": "改善", "Checklist item": "查核項目", "Raise finding": "開立缺失",
    "Start an inspection to raise a finding.": "請先建立查核以開立缺失。", "No gaps.": "無缺失。",
    "* interval proposed by ccinspect (the text says only 定期). △ changed by the amendment: the clause is listed in "
    "both versions.": "* 期間為 ccinspect 建議（條文僅稱定期）。△ 經本次修正變動：列出兩個版本之條文。",
    "Last drill per system: target vs achieved": "各系統最近一次演練：目標與實際",
    "Drill": "演練", "Date": "日期", "target / achieved": "目標／實際", "Tolerable interruption": "可容忍中斷時間",
    "no drill": "無演練", "Drills and reviews due": "應辦演練與檢視", "Last": "最近一次", "Next due": "下次應辦",
    "now": "即刻", "Calendar: CC-20000 duties": "行事曆：CC-20000 應辦事項", "Clause": "條文",
    "Outages in the incident register: achieved recovery against RTO": "事件登錄之服務中斷：實際復原時間與 RTO",
    "Achieved (minutes)": "實際（分鐘）", "over the RTO": "超過 RTO",
    "No outage names a core system of the register.": "無服務中斷事件指明登錄簿之核心系統。",
    "Tolerable interruption time by class (internet-order brokers)": "分級可容忍中斷時間（網際網路下單證券商）",
    "Profile fields feeding it": "所依據之券商基本資料欄位", "Import the register (XLSX)": "匯入登錄簿（XLSX）",
    "The workbook replaces the whole register. Every sheet is checked first; if any row is bad, nothing is imported.":
        "活頁簿將取代整份登錄簿。先檢查所有工作表；任一列有誤即不匯入任何資料。",
    "Download the empty template": "下載空白範本", "Sheet": "工作表", "Row": "列", "Column": "欄", "Problem": "問題",
    "Delete": "刪除", "No records.": "無紀錄。", "Core systems": "核心系統", "Business impact analyses": "營運衝擊分析",
    "Manual fallback plans": "人工備援計畫", "DR site coverage": "異地備援", "Drills and tests": "演練與測試",
    "Risk scenarios": "風險情境", "Provider recovery plans": "委外廠商備援計畫",
    "Tolerable interruption by class": "分級可容忍中斷時間", "Business impact analysis": "營運衝擊分析",
    "Risk scenario review": "風險情境檢視", "Provider recovery plan": "委外廠商備援計畫",
    "Only the broker's security officer or administrator changes the register.": "僅券商之資安人員或管理員可修改登錄簿。",
    "%(v)s is not a date; showing today.": "%(v)s 不是日期；顯示今日。", "No drills recorded yet": "尚無演練紀錄",
    "Target RTO": "目標 RTO", "Achieved RTO": "實際 RTO", "Target RPO": "目標 RPO", "Achieved RPO": "實際 RPO",
    "minutes": "分鐘", "Saved %(id)s.": "已儲存 %(id)s。", "Deleted %(id)s.": "已刪除 %(id)s。",
    "Choose a workbook to import.": "請選擇要匯入之活頁簿。",
    "Imported %(n)d records; the register was replaced.": "已匯入 %(n)d 筆紀錄；登錄簿已更新。",
    "Finding F-%(n)d raised from the gap.": "已就此缺失開立 F-%(n)d。", "core system": "核心系統",
    "Core system (continuity register)": "核心系統（營運持續登錄簿）",
    "RTO and tolerable time from its latest business impact analysis unless entered":
        "未填時，RTO 與可容忍中斷時間取自其最近一次營運衝擊分析",
    "Continuity": "營運持續",
    "%(name)s: %(n)s problem(s); nothing was imported": "%(name)s：%(n)s 個問題；未匯入任何資料",
})


# security: rate limits
ZH.update({
    "Too many requests": "請求過多",
    "Too many attempts from your address. Wait %(seconds)s s and try again.":
        "來自您所在位址的請求過多，請等候 %(seconds)s 秒後再試。",
    "Back": "返回",
    "Too many failed authentications from your address. Try again in %(seconds)d s.":
        "來自您所在位址的驗證失敗次數過多，請於 %(seconds)d 秒後再試。",
})

# evidence uploads, archives and imports (issue 10)
ZH.update({
    'PDF, PNG, JPEG, GIF, ZIP/Office, EVTX, plain text (txt, log, csv, json, xml, yaml…)':
        'PDF、PNG、JPEG、GIF、ZIP/Office、EVTX、純文字（txt、log、csv、json、xml、yaml…）',
    'the file is larger than the limit of %(mb)s MB':
        '檔案超過 %(mb)s MB 的上限',
    '%(name)s: the archive has more than %(limit)s members':
        '%(name)s：壓縮檔內含超過 %(limit)s 個檔案',
    '%(name)s: the archive expands to more than %(mb)s MB (a zip bomb?)':
        '%(name)s：壓縮檔解壓後超過 %(mb)s MB（疑似壓縮炸彈）',
    '%(name)s: archives nested more than %(limit)s levels deep are not accepted':
        '%(name)s：不接受巢狀超過 %(limit)s 層的壓縮檔',
    '%(name)s is damaged: its OLE (legacy Office) structure cannot be read':
        '%(name)s 已損毀：無法讀取其 OLE（舊版 Office）結構',
    '%(name)s contains macros (%(what)s), which are not accepted as evidence (save it without macros, or as PDF)':
        '%(name)s 含有巨集（%(what)s），不得作為佐證（請另存為不含巨集之檔案或 PDF）',
    '%(name)s: the archive is encrypted, so its content cannot be checked':
        '%(name)s：壓縮檔已加密，無法檢查其內容',
    '%(name)s: the archive member %(member)s points outside the archive':
        '%(name)s：壓縮檔內的 %(member)s 指向壓縮檔以外的位置',
    '%(name)s: the archive contains an executable or a script (%(member)s)':
        '%(name)s：壓縮檔內含執行檔或指令碼（%(member)s）',
    '%(name)s: the archive is damaged or not a ZIP archive':
        '%(name)s：壓縮檔已損毀或不是 ZIP 壓縮檔',
    '%(name)s is named %(ext)s but is not an Office document (it has no %(part)s)':
        '%(name)s 的副檔名為 %(ext)s，但不是 Office 文件（缺少 %(part)s）',
    'the file is empty':
        '檔案是空的',
    '%(name)s is an HTML, SVG or XSLT document; active content is not accepted as evidence (export it as PDF or plain text)':
        '%(name)s 是 HTML、SVG 或 XSLT 文件；含主動內容的檔案不得作為佐證（請轉存為 PDF 或純文字）',
    'the content of %(name)s is not an accepted evidence type (%(allowed)s)':
        '%(name)s 的內容不是可接受的佐證檔案類型（%(allowed)s）',
    'files named %(ext)s are not accepted (%(allowed)s)':
        '不接受副檔名為 %(ext)s 的檔案（%(allowed)s）',
    '%(name)s is named %(ext)s but its content is %(actual)s, not %(expected)s':
        '%(name)s 的副檔名為 %(ext)s，但內容是 %(actual)s，而非 %(expected)s',
    '%(name)s contains active content (/%(what)s), which is not accepted as evidence':
        '%(name)s 含有主動內容（/%(what)s），不得作為佐證',
    'The upload is larger than the limit of %(mb)s MB; nothing was stored.':
        '上傳內容超過 %(mb)s MB 的上限；未儲存任何資料。',
    '%(name)s is not an XLSX workbook (its content is not a ZIP archive)':
        '%(name)s 不是 XLSX 活頁簿（其內容不是 ZIP 壓縮檔）',
})


# long lists a page at a time (issue 10, load)
ZH.update({
    "Pages": "分頁", "First page": "第一頁", "Previous page": "上一頁", "Next page": "下一頁", "Last page": "最末頁",
    "Page %(n)s of %(pages)s · %(first)s–%(last)s of %(total)s":
        "第 %(n)s 頁，共 %(pages)s 頁 · 第 %(first)s–%(last)s 筆，共 %(total)s 筆",
    "All %(n)s open findings": "全部 %(n)s 項未結案缺失",
})

# Brokers as records, the user lifecycle (issue 22)
ZH.update({
    "retired at": "終止日", "reason for retirement": "終止理由", "by capital": "依資本額",
    "Note on this change": "本次變更說明", "Tier today": "今日資安分級", "retired": "已終止",
    "Save a new version": "儲存新版本", "Onboard": "建立", "Saved at": "儲存時間", "(from the start)": "（自始）",
    "Retire the broker": "終止券商", "Broker code": "證券商代號", "Capital as of": "資本額基準日",
    "(override)": "（指定）", "active": "使用中", "No broker matches.": "沒有符合的券商。", "All users": "全部使用者",
    "Active": "使用中", "Actions": "操作", "Change role": "變更角色",
    "%(user)s is disabled; their sessions and API tokens have ended.": "已停用 %(user)s；其登入工作階段與 API 權杖已立即失效。",
    "%(user)s is enabled again.": "已重新啟用 %(user)s。", "%(user)s now has the role %(role)s.": "%(user)s 的角色已變更為%(role)s。",
    "%(user)s is unlocked.": "已解除 %(user)s 的鎖定。",
    "In force from (a capital change moves the tier from this date)": "生效日（資本額變更自此日起改變資安分級）",
    "Onboard a broker": "新增券商", "Services and facts": "業務與服務", "Last dates of recurring duties": "定期作業最近辦理日",
    "Profile history": "基本資料沿革", "In force from": "生效日", "Tier override": "指定分級", "By": "變更人",
    "Its records stay; its users are disabled at once (sessions and API tokens end) and it takes no new users.":
        "其紀錄保留；其使用者立即停用（登入工作階段與 API 權杖失效），且不得新增使用者。",
    "Reason": "理由", "Retire": "終止", "Search by name or broker code": "以名稱或證券商代號搜尋", "Search": "搜尋",
    "(branch of a foreign broker)": "（外國證券商在臺分公司）", "profile error": "基本資料有誤",
    "The broker %(name)s is saved.": "券商 %(name)s 已儲存。",
    "The broker %(name)s is retired; its users are disabled.": "券商 %(name)s 已終止，其使用者已停用。",
    "Search: user name, name, title, organisation": "搜尋：帳號、姓名、職稱、機構", "Disabled": "已停用",
    "Locked out": "已鎖定", "disabled": "已停用", "locked out": "已鎖定", "Disable": "停用", "Enable": "啟用",
    "Unlock": "解除鎖定", "No user matches.": "沒有符合的使用者。",
})


def _entries(text: str):
    for block in text.split("\n\n"):
        m = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', block + "\n", re.M)
        if not m:
            continue
        msgid = "".join(ast.literal_eval(s) for s in re.findall(r'".*"', m.group(1)))
        msgstr = "".join(ast.literal_eval(s) for s in re.findall(r'".*"', m.group(2)))
        yield block, msgid, msgstr


def fill() -> list[str]:
    text = PO.read_text(encoding="utf-8")
    out, missing = [], []
    for block in text.split("\n\n"):
        entry = list(_entries(block))
        if entry and entry[0][1]:
            _b, msgid, _s = entry[0]
            zh = ZH.get(msgid)
            if zh is None:
                missing.append(msgid)
            else:
                block = re.sub(r'^msgstr (?:".*"\n?)+', "msgstr " + _quote(zh), block + "\n", flags=re.M).rstrip("\n")
                block = _unfuzzy(block)
        out.append(block)
    text = "\n\n".join(out).replace("#, fuzzy\nmsgid \"\"", "msgid \"\"")
    text = text.replace('"Content-Type: text/plain; charset=CHARSET\\n"', '"Content-Type: text/plain; charset=UTF-8\\n"')
    PO.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return missing


def _unfuzzy(block: str) -> str:
    """The translation is ours, not msgmerge's guess: drop the fuzzy flag and the previous msgid."""
    lines = []
    for line in block.split("\n"):
        if line.startswith("#| "):
            continue
        if line.startswith("#, "):
            flags = [f.strip() for f in line[3:].split(",") if f.strip() != "fuzzy"]
            if not flags:
                continue
            line = "#, " + ", ".join(flags)
        lines.append(line)
    return "\n".join(lines)


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def compile_mo(po: Path = PO) -> Path:
    """GNU .mo from the .po (the format msgfmt writes), for machines without gettext."""
    pairs = {msgid: msgstr for _b, msgid, msgstr in _entries(po.read_text(encoding="utf-8")) if msgstr}
    keys = sorted(pairs)
    ids = b"".join(k.encode() + b"\0" for k in keys)
    strs = b"".join(pairs[k].encode() + b"\0" for k in keys)
    n = len(keys)
    koffsets, voffsets, o = [], [], 0
    for k in keys:
        koffsets.append((len(k.encode()), o))
        o += len(k.encode()) + 1
    o = 0
    for k in keys:
        voffsets.append((len(pairs[k].encode()), o))
        o += len(pairs[k].encode()) + 1
    start_ids = 7 * 4 + 16 * n
    start_strs = start_ids + len(ids)
    out = struct.pack("Iiiiiii", 0x950412DE, 0, n, 7 * 4, 7 * 4 + n * 8, 0, 0)
    out += b"".join(struct.pack("ii", ln, off + start_ids) for ln, off in koffsets)
    out += b"".join(struct.pack("ii", ln, off + start_strs) for ln, off in voffsets)
    out += ids + strs
    mo = po.with_suffix(".mo")
    mo.write_bytes(out)
    return mo


if __name__ == "__main__":
    missing = fill()
    if missing:
        print("untranslated:", *missing, sep="\n  ")
    print("wrote", compile_mo())
