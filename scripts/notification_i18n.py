"""Fill and compile the zh-Hant catalog of the customer notification app (its own, beside the app, so it
never collides with the shared catalog); the same machinery as scripts/web_i18n.py.

    cd src/ccinspect/web/notification && django-admin makemessages -l zh_Hant --no-obsolete
    .venv/bin/python scripts/notification_i18n.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import web_i18n  # noqa: E402

PO = Path(__file__).resolve().parents[1] / "src/ccinspect/web/notification/locale/zh_Hant/LC_MESSAGES/django.po"

ZH = {
    "Gateway webhook (SMS / app / e-mail)": "券商通知閘道（簡訊／APP／Email）",
    "E-mail through the broker's relay": "經由券商郵件中繼站寄送 Email",
    "channel": "通道", "gateway URL": "閘道網址", "signing secret": "簽章金鑰", "mail relay host": "郵件中繼主機",
    "mail relay port": "郵件中繼埠號", "STARTTLS": "STARTTLS", "sender address": "寄件者地址",
    "address lookup URL": "電子郵件查詢網址", "default language": "預設語言", "answer within (hours)": "回覆期限（小時）",
    "follow up unanswered after (hours)": "未回覆追蹤時間（小時）", "attempts per message": "每則通知嘗試次數",
    "first retry after (seconds)": "首次重試間隔（秒）", "timeout (seconds)": "逾時（秒）",
    "Notification": "通知", "Follow-up": "追蹤通知", "subject": "主旨", "message": "訊息", "allow links": "允許連結",
    "Queued": "待寄送", "Sent": "已寄送", "Not delivered": "寄送失敗", "Answered": "已回覆",
    "This was me": "是本人登入", "This was not me": "非本人登入", "Open": "處理中",
    "Escalated to the incident register": "已陳報資安事件", "Closed": "已結案", "Requested": "通知筆數",
    "Attempts": "寄送嘗試", "Followed up": "已追蹤", "Cases": "案件", "Escalated": "已陳報",
    "Notifications": "通知紀錄", "Gateway": "通知閘道", "Templates": "訊息範本", "Account": "帳號",
    "Login (Taipei)": "登入時間（台北）", "Detected (Taipei)": "偵測時間（台北）", "Customer answered": "客戶回覆",
    "Lock-and-reset": "鎖定及重設密碼", "done": "已完成", "requested": "已要求", "Incident": "資安事件",
    "Note": "說明", "The broker has locked the account and reset the password": "券商已鎖定帳號並重設密碼",
    "A reportable incident": "應通報之資安事件",
    "Recorded on the incident register with the detection time above: its reporting clocks run from then.":
        "以上列偵測時間登錄於資安事件登錄簿，通報時限自該時起算。",
    "Title": "標題", "Personal data": "個人資料", "Escalate to the incident register": "陳報為資安事件",
    "Not reportable": "無須通報", "Why": "理由", "Close the case": "結案",
    "Cases: the customer said it was not them": "案件：客戶表示非本人登入", "Opened": "立案時間",
    "Status": "狀態", "No cases.": "沒有案件。", "Confirm a sign-in": "確認登入",
    "Too many attempts from your network. Please wait a minute and try again.": "您的網路嘗試次數過多，請稍候一分鐘再試。",
    "Thank you. You confirmed that the sign-in was yours.": "謝謝，您已確認此次登入為本人。",
    "Thank you. We have recorded that the sign-in was not yours; the broker will lock your account and contact "
    "you to reset your password.": "謝謝，我們已記錄此次登入非您本人；券商將鎖定您的帳號並與您聯繫重設密碼。",
    "A sign-in to your account was recorded:": "您的帳號有一筆登入紀錄：", "Time (Taipei)": "時間（台北）",
    "From": "起", "Answer by": "回覆期限",
    "This code cannot be used. Check the code in the message, or call customer service.":
        "此代碼無法使用。請核對訊息中的代碼，或致電客服。",
    "Enter the code from the sign-in message you received.": "請輸入您收到的登入通知中的代碼。",
    "Code": "代碼", "Continue": "繼續", "Customer notification": "通知客戶",
    "Counts per broker only: customers' account ids stay with their broker.": "僅顯示各券商筆數：客戶帳號只留在所屬券商。",
    "Broker": "證券商", "Reason": "原因", "Answer": "回覆", "Expires": "期限", "due": "預定", "Case": "案件",
    "Kept until": "保存至", "Time": "時間", "Channel": "通道", "Result": "結果", "follow-up": "追蹤",
    "Not yet sent.": "尚未寄送。",
    "Customers are asked, through the broker's own SMS, app or e-mail gateway, whether a login was theirs (003 "
    "network security point 16). ccinspect keeps no phone numbers or e-mail addresses.":
        "經由券商自有之簡訊、APP 或 Email 閘道詢問客戶是否為本人登入（003 網路安全管理第 16 點）。"
        "ccinspect 不保存客戶電話或電子郵件地址。",
    "No gateway is configured: nothing can be sent yet.": "尚未設定通知閘道，目前無法寄送。",
    "To": "迄", "Filter": "篩選", "Inspection checklist (point 16)": "查核項目（第 16 點）",
    "Attach these records to the checklist": "將紀錄附於查核項目", "Place": "地點", "No notifications.": "沒有通知。",
    "Notification gateway": "通知閘道",
    "The contract (request, signature, callback) for your developers is in docs/notification.md.":
        "閘道介接規格（請求、簽章、回呼）請見 docs/notification.md。",
    "Signing secret (shown once; give it to the gateway's developers):": "簽章金鑰（僅顯示一次，請交付閘道開發人員）：",
    "Callback for answers": "回覆回呼", "Gateway URL": "閘道網址", "Mail relay host": "郵件中繼主機",
    "Mail relay port": "郵件中繼埠號", "Sender address": "寄件者地址",
    "Address lookup URL (gives a customer's e-mail address for one message; not stored)":
        "電子郵件查詢網址（僅供單次寄送取得客戶地址，不保存）",
    "Default language": "預設語言", "Answer within (hours)": "回覆期限（小時）",
    "Follow up unanswered after (hours)": "未回覆追蹤時間（小時）", "Attempts per message": "每則通知嘗試次數",
    "First retry after (seconds, doubling)": "首次重試間隔（秒，其後加倍）", "Timeout (seconds)": "逾時（秒）",
    "Make a new signing secret": "產生新的簽章金鑰", "Save": "儲存", "Message templates": "訊息範本",
    "Plain text. No links unless allowed: customers are taught never to follow links in security messages "
    "(CC-17010.e.g).": "純文字。除非允許，不得含連結：客戶被教育不點選資安訊息中的連結（CC-17010.e.g）。",
    "Placeholders": "欄位", "Subject (e-mail)": "主旨（Email）", "Message": "訊息",
    "Allow links in this template": "此範本允許連結", "Preview": "預覽", "Preview (sample values)": "預覽（範例值）",
    "Escalated to the incident register; its clocks run from the detection time.":
        "已陳報資安事件登錄簿，通報時限自偵測時間起算。",
    "Case closed as not reportable.": "案件已以無須通報結案。", "Lock-and-reset recorded.": "已記錄鎖定及重設密碼。",
    "Only the broker's security officer or administrator changes this.": "僅券商資安人員或管理員可變更。",
    "Saved.": "已儲存。", "Template saved.": "範本已儲存。",
    "Attached to %(n)d checklist item(s): %(status)s.": "已附於 %(n)d 個查核項目：%(status)s。",
}

if __name__ == "__main__":
    web_i18n.PO, web_i18n.ZH = PO, ZH
    missing = web_i18n.fill()
    if missing:
        print("untranslated:", *missing, sep="\n  ")
    print("wrote", web_i18n.compile_mo(PO))
