"""Write names_labelled.txt, the labelled sentences that measure name redaction (issue 11).

`PYTHONPATH=. .venv/bin/python tests/cases/privacy/make_labelled.py` rewrites it (seeded, so
the same bytes).  Each line is one sentence; every person's name that should be hidden is
in 【】.  Lines starting with "known:" list names that a complainant column holds (the test
passes them as known names), "keep:" names of officials never hidden.  The set labels every
private person's name, also those no rule can find (a name with no cue, honorific or
complainant entry), so the recall it gives is the real one, not the rules' own.
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董潘袁蔡蒋余"
                "杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏付方邹熊白孟秦邱侯江尹薛段雷龙")
GIVEN = ("志强 秀兰 桂芳 海涛 春燕 建华 丽娟 国庆 晓红 玉珍 金山 德明 淑珍 宏伟 雪梅 永福 红霞 长青 "
         "小军 文静 子轩 梓涵 一鸣 欣怡 浩宇 佳琪 俊杰 明 华 军 静 丽 磊 勇 霞 刚 波 燕 鹏 婷").split()
PLACES = "城东街道 河湾镇 柳树屯村 新民社区 花园小区 北关村 南湖社区 东风路 光明小区 前进村".split()
CUE_TEMPLATES = [
    "举报人{n}反映{p}路灯长期不亮。", "{p}村民{n}来电称低保评定不公。", "反映人：{n}，经核实情况属实。",
    "投诉人{n}要求退还多收的物业费。", "来信人{n}称危房改造补助未到位。", "来电人{n}反映{p}夜间施工噪音扰民。",
    "联系人{n}，已电话回访。", "当事人{n}对处理结果无异议。", "群众{n}多次到窗口办理未果。",
    "{p}居民{n}家中自来水压力不足。", "业主{n}投诉物业公司不作为。", "经核实，申请人{n}符合救助条件。",
    "求助人{n}的房屋因暴雨漏水。", "信访人{n}反映征地补偿款未发放。", "{p}业主{n}称电梯频繁故障。",
    "投诉人：{n}。诉求：尽快修复路面。", "来访人{n}情绪激动，已耐心解释。", "市民{n}建议增设公交站点。",
]
PAIR_TEMPLATES = ["{p}居民{n}、{m}联名反映供暖不达标。", "村民{n}和{m}的宅基地纠纷已调解。"]
HONORIFIC_TEMPLATES = [  # (template, the mask or honorific after the surname)
    ("{s}女士反映孩子入学手续繁琐。", "女士"), ("{s}先生来电询问补贴发放进度。", "先生"),
    ("据{s}师傅介绍，管道已老化。", "师傅"), ("{s}某某称其车辆被违规拖走。", "某某"),
    ("{s}某反映{p}垃圾清运不及时。", "某"), ("工作人员上门走访了{s}阿姨家。", "阿姨"),
    ("经与{s}大爷沟通，已达成一致。", "大爷"), ("{s}某等三人到县信访局上访。", "某"),
    ("已向{s}女士当面反馈整改结果。", "女士"),
]
KNOWN_TEMPLATES = ["{k}家门口的下水道堵塞多日。", "已向{k}反馈整改结果，{k}表示满意。",
                   "{p}的{k}反映补贴被克扣。", "回访时{k}对处理结果表示认可。"]
UNKNOWN_TEMPLATES = ["{u}家门口的路灯坏了很久。", "{p}的{u}说补贴一直没到账。", "走访中{u}提出了三条建议。"]
OFFICIAL_TEMPLATES = ["县住建局局长{o}带队现场办公。", "责任人{o}已约谈物业企业负责人。",
                      "分管副县长{o}主持召开专题会议。"]
NEGATIVES = """
群众满意度明显提升。
乡镇卫生院让群众常见病在家门口就能看。
群众安全感和满意度进一步增强。
倡导群众文明出行，遵守交通规则。
居民区内垃圾清运及时。
深入开展群众路线教育实践活动。
整改成效得到群众高度评价。
群众向有关部门反映后仍未解决。
居民多次反映后仍未彻底解决。
小区业主委员会已依法成立。
召开村民代表大会表决通过。
村民小组长负责日常巡查。
首先生产安全要放在第一位。
优先生成月度统计报表。
曾向某单位反映未果。
于某日到现场核查。
某些部门相互推诿扯皮。
维修师傅已上门更换水表。
县第三中学数学老师补课问题已查处。
群众利益无小事。
群众关心的热点问题逐一答复。
为群众方便办事开设绿色通道。
当事人双方签订调解协议。
联系人电话已登记。
王官庄镇中心小学校舍已维修。
李家集镇农贸市场秩序好转。
张庄村通村公路完成硬化。
刘楼村饮水安全工程已完工。
黄河路沿线占道经营得到整治。
高新区企业服务中心已运行。
金融服务站进驻各乡镇。
石桥镇卫生院新增设备。
马路市场已搬迁至新址。
白天施工，夜间停工。
周边群众反映油烟扰民。
林业局开展森林防火检查。
在资金使用方面加强监管。
任务分解到人，压实责任。
路面破损问题明显好转。
江边步道照明设施已更换。
文明城市创建工作扎实推进。
各部门高度重视，迅速整改。
严格执行公务接待标准。
程序性办结问题已纠正。
余额不足时及时提醒。
雷雨天气加强巡查。
龙头企业带动农户增收。
黎明时分开展联合执法。
陶瓷厂粉尘污染已治理。
毛病出在管理上。
顾客投诉商品质量问题。
投入资金三百万元。
钱款已全部退还。
孔洞已全部封堵。
常态化开展督查检查。
康复中心已投入使用。
易地搬迁安置点配套完善。
乔木补植工作已完成。
居民收入稳步增长。
推进村民自治。
业主大会表决通过改造方案。
群众获得感不断增强。
居民医保参保率达到百分之九十八。
村民建房审批流程已简化。
市民服务中心延长办公时间。
住户用水高峰时段水压不足。
患者就医排队时间明显缩短。
家属院管网改造完成。
本人反映的问题已解决。
群众来信来访及时办理。
群众出行不便问题已解决。
居民休息不受夜间施工影响。
业主投诉明显下降。
群众看病难问题有所缓解。
群众办事需多次往返的问题已整改。
群众对部分认定结果有疑问。
群众无异议后张榜公示。
群众不知如何申请的问题已通过宣传解决。
群众留言及时回复。
群众监督电话已公布。
群众常见病、多发病诊疗能力提升。
群众诉求件件有回音。
已向反映人反馈整改情况。
经回访群众表示满意。
窗口服务态度明显改善，群众满意度提升。
居民楼楼道飞线充电已清理。
村民委员会换届选举顺利完成。
群众性文化活动丰富多彩。
方便群众就近办理。
业主群众意见较大。
申请人范围扩大到灵活就业人员。
当事人的合法权益得到保障。
投诉人员信息严格保密。
来电人数明显增加。
联系人制度已建立。
举报人信息依法保密。
群众高兴地说：“路终于修好了。”
居民安居乐业。
村民增收致富。
群众金点子征集活动启动。
""".split()


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _marked(template: str, **names: str) -> str:
    return template.format(**{key: (value if key in "pso" else f"【{value}】")
                              for key, value in names.items()})


def build() -> str:
    rng = random.Random("gongshi names labelled set")
    lines: list[str] = []
    known = sorted({_name(rng) for _ in range(12)})
    officials = sorted({_name(rng) for _ in range(3)} - set(known))
    for template in CUE_TEMPLATES:
        for _ in range(7):
            lines.append(_marked(template, n=_name(rng), p=rng.choice(PLACES)))
    for template in PAIR_TEMPLATES:
        for _ in range(5):
            lines.append(_marked(template, n=_name(rng), m=_name(rng), p=rng.choice(PLACES)))
    for template, token in HONORIFIC_TEMPLATES:
        for _ in range(5):
            text = template.replace("{s}" + token, f"【{rng.choice(SURNAMES)}{token}】")
            lines.append(text.format(p=rng.choice(PLACES)))
    for template in KNOWN_TEMPLATES:
        for _ in range(6):
            name = rng.choice(known)
            lines.append(template.replace("{k}", f"【{name}】").format(p=rng.choice(PLACES)))
    for template in UNKNOWN_TEMPLATES:
        for _ in range(6):
            lines.append(template.replace("{u}", f"【{_name(rng)}】").format(p=rng.choice(PLACES)))
    for template in OFFICIAL_TEMPLATES:
        for official in officials:
            lines.append(template.format(o=official))
    lines += NEGATIVES
    header = [f"known: {' '.join(known)}", f"keep: {' '.join(officials)}"]
    return "\n".join(header + lines) + "\n"


if __name__ == "__main__":
    text = build()
    (HERE / "names_labelled.txt").write_text(text, encoding="utf-8")
    print(f"{len(text.splitlines()) - 2} sentences")
